import type { TelemetryEvent } from "../../core/telemetry.js";

/**
 * The text a signal is fingerprinted by. Structured (JSON) log bodies use their message field; span
 * errors use `exception.type: exception.message`; RUM exceptions their name and message.
 */

const MESSAGE_KEYS = ["message", "msg", "log", "text", "body", "event", "error", "err"];

function fromObject(o: Record<string, unknown>, depth: number): string | undefined {
  for (const key of MESSAGE_KEYS) {
    const v = o[key];
    if (typeof v === "string") return v.startsWith("{") && depth < 2 ? messageOf(v, depth + 1) : v;
    if (v && typeof v === "object" && !Array.isArray(v) && depth < 2) {
      const inner = fromObject(v as Record<string, unknown>, depth + 1);
      if (inner !== undefined) return inner;
    }
  }
  return undefined;
}

/** A log body's message: the message field of a JSON object body, else the body itself. */
export function messageOf(body: string, depth = 0): string {
  const trimmed = body.trimStart();
  if (!trimmed.startsWith("{")) return body;
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch {
    return body;
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) return body;
  return fromObject(parsed as Record<string, unknown>, depth) ?? body;
}

/** `exception.type: exception.message` — either part may be missing. */
export function exceptionMessage(type: unknown, message: unknown): string | undefined {
  const t = typeof type === "string" && type.length > 0 ? type : undefined;
  const m = typeof message === "string" && message.length > 0 ? message : undefined;
  if (t && m) return `${t}: ${m}`;
  return t ?? m;
}

/**
 * The message to fingerprint for an event, or undefined when the event is not fingerprinted (metrics,
 * successful spans, RUM measurements).
 */
export function fingerprintMessage(event: TelemetryEvent): string | undefined {
  switch (event.kind) {
    case "log":
      return messageOf(event.log.body);
    case "span": {
      const span = event.span;
      const exception = span.events.find((e) => e.name === "exception");
      const fromEvent = exception
        ? exceptionMessage(exception.attributes["exception.type"], exception.attributes["exception.message"])
        : undefined;
      const fromAttrs = exceptionMessage(
        span.attributes["exception.type"],
        span.attributes["exception.message"],
      );
      if (fromEvent ?? fromAttrs) return fromEvent ?? fromAttrs;
      return span.status === "error" ? (span.statusMessage ?? `${span.name} failed`) : undefined;
    }
    case "rum":
      return event.rum.type === "exception" || event.rum.type === "log"
        ? (exceptionMessage(event.rum.name, event.rum.message) ?? event.rum.name)
        : undefined;
    default:
      return undefined;
  }
}
