import type { Journey } from "../core/journey.js";
import { journeysThrough } from "../store/repos/journeys.js";
import { getService } from "../store/repos/services.js";
import type { AppContext } from "./context.js";
import { done, type Outcome, refuse } from "./outcome.js";

/**
 * The journeys `analyze` saved that pass through a service: entered at it or calling it along the way
 * (what an SLO of the service covers), highest score first. Empty until the service is analysed.
 */
export async function journeys(app: AppContext, service: string): Promise<Outcome<Journey[]>> {
  const [known, found] = await Promise.all([
    getService(app.sql, service),
    journeysThrough(app.sql, [service]),
  ]);
  if (!known && found.length === 0)
    return refuse(
      "unknown-service",
      `no telemetry from a service named ${service}; "status" lists the services.`,
    );
  return done(found);
}
