import { registry } from "../../server/metrics.js";
import type { RoutePlugin } from "../../server/routes.js";
import { receiversPlugin } from "./plugin.js";

/** The receivers as a server route plugin: the server's bus and config, counters on the shared registry. */
export const receiversRoute: RoutePlugin = async (app, deps) => {
  if (!deps.bus) throw new Error("the telemetry receivers need a bus: pass deps.bus to buildServer");
  await receiversPlugin(app, { bus: deps.bus, config: deps.config, registry });
};
