import type { TelemetryEvent } from "../../core/telemetry.js";
import { stripHeader } from "../fingerprint/header.js";
import type { DecodeResult } from "./decode-result.js";
import { severityFromText } from "./otlp-decode.js";

/**
 * Plain log lines (a file tailed by nothing in particular) → log events for one service. A leading
 * ISO 8601 / RFC 3339 timestamp becomes the event time (UTC when it has no zone), a level word
 * (`ERROR`, `warn`, …) the severity; other lines get the ingest time and `info`. The body is the message
 * after the header, split off by the same rules `slo-scout fingerprint --raw` uses.
 */

const LEADING_TIME = /^\[?(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d{1,9})?)(Z|[+-]\d{2}:?\d{2})?\]?/;
const LEVEL = /\b(TRACE|DEBUG|INFO|NOTICE|WARN(?:ING)?|ERR(?:OR)?|CRIT(?:ICAL)?|FATAL|PANIC|EMERG)\b/i;

export function lineTime(line: string): number | undefined {
  const m = LEADING_TIME.exec(line);
  if (!m) return undefined;
  const zone = m[2] ?? "Z";
  // Date.parse takes at most milliseconds and a dot as decimal separator.
  const base = m[1]!
    .replace(" ", "T")
    .replace(",", ".")
    .replace(/(\.\d{3})\d+$/, "$1");
  const t = Date.parse(`${base}${zone.length === 5 ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone}`);
  return Number.isNaN(t) ? undefined : t;
}

export function decodeTextLines(lines: readonly string[], service: string, now = Date.now()): DecodeResult {
  const events: TelemetryEvent[] = [];
  for (const raw of lines) {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line.trim() === "") continue;
    const level = LEVEL.exec(line)?.[1];
    // The header (time, level, pid, component) becomes the event's time and severity, and the body is the
    // message, as a receiver of structured logs gets it: a timestamp left in the body would make every line
    // a template of its own.
    const message = stripHeader(line);
    events.push({
      schemaVersion: 1,
      kind: "log",
      service,
      time: lineTime(line) ?? now,
      attributes: {},
      log: {
        body: message.trim() === "" ? line : message,
        severity: severityFromText(level) ?? "info",
        ...(level ? { severityText: level } : {}),
        attributes: {},
      },
    });
  }
  return { events, accepted: events.length, rejected: 0, reasons: [] };
}
