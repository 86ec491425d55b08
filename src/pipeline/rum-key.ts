import { createHash } from "node:crypto";
import type { TelemetryEvent } from "../core/telemetry.js";

/**
 * The identity of a browser event, for applying it exactly once however often it is delivered: Faro
 * stamps every item with its own millisecond timestamp and every payload with the session id, so one
 * session's item at one instant on one page, with the same name, values and message, is one event.
 * Without a session id there is no such identity — two visitors loading a page in the same millisecond
 * with the same CLS of 0 are two page loads — so those events have no key and are counted as delivered.
 */
export function rumEventKey(event: TelemetryEvent & { kind: "rum" }): string | undefined {
  const { rum } = event;
  if (!rum.sessionId) return undefined;
  const values = Object.entries(rum.values).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return createHash("sha256")
    .update(
      JSON.stringify([
        event.service,
        event.time,
        rum.sessionId,
        rum.page ?? null,
        rum.type,
        rum.name,
        values,
        rum.message ?? null,
        rum.traceId ?? null,
      ]),
    )
    .digest("base64url")
    .slice(0, 22);
}
