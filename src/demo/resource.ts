import type { Attributes } from "../core/telemetry.js";
import type { Plan } from "./plan.js";
import { serviceByName } from "./topology.js";

/** OTel resource attributes of a shop service (its version changes at the inventory restart). */
export function resourceAttributes(plan: Plan, service: string, time: number): Attributes {
  const def = serviceByName(service);
  let version = def.version ?? "1.0.0";
  if (service === plan.counterReset.service && time >= plan.counterReset.time)
    version = plan.counterReset.newVersion;
  const attrs: Attributes = {
    "service.name": service,
    "service.namespace": "shop",
    "service.version": version,
    "deployment.environment.name": "production",
    "telemetry.sdk.language": def.language ?? "unknown",
  };
  if (def.kind === "service") {
    attrs["k8s.namespace.name"] = "shop";
    attrs["k8s.deployment.name"] = service;
    if (def.port !== undefined) attrs.job = service;
    if (def.host !== undefined && def.port !== undefined) attrs.instance = `${def.host}:${def.port}`;
  }
  return attrs;
}
