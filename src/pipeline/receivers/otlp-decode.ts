import type {
  Attributes,
  LogRecord,
  MetricSeries,
  Severity,
  Span,
  SpanKind,
  TelemetryEvent,
} from "../../core/telemetry.js";
import { type DecodeResult, MalformedBodyError, RejectLog } from "./decode-result.js";
import { type OtlpSignal, otlpTypes } from "./otlp-proto.js";

/**
 * OTLP (protobuf or JSON) → TelemetryEvents. Protobuf is decoded by protobufjs from the official
 * definitions; JSON follows the OTLP JSON mapping (hex trace/span ids, integer enums, int64 as decimal
 * strings or numbers). Both arrive here as the same object tree (protobufjs messages and parsed JSON
 * share field names), so one walker maps both.
 *
 * A record (span, data point, log record) that cannot be represented is rejected with a reason and
 * the rest of the request is kept, which the receivers report as OTLP `partial_success`.
 */

export type OtlpEncoding = "protobuf" | "json";

// biome-ignore lint/suspicious/noExplicitAny: protobufjs messages and parsed JSON are walked structurally
type Node = any;

export function decodeOtlp(
  signal: OtlpSignal,
  body: Uint8Array,
  encoding: OtlpEncoding,
  now = Date.now(),
  defaultService?: string,
): DecodeResult {
  return decodeOtlpTree(signal, parseOtlp(signal, body, encoding), now, defaultService);
}

/** Parses the wire bytes into the request tree; a body that cannot be parsed is a MalformedBodyError. */
export function parseOtlp(signal: OtlpSignal, body: Uint8Array, encoding: OtlpEncoding): Node {
  if (encoding === "protobuf") {
    try {
      return otlpTypes()[signal].request.decode(body);
    } catch (err) {
      throw new MalformedBodyError(`invalid OTLP protobuf: ${(err as Error).message}`);
    }
  }
  let tree: unknown;
  try {
    tree = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8"));
  } catch (err) {
    throw new MalformedBodyError(`invalid JSON: ${(err as Error).message}`);
  }
  if (tree === null || typeof tree !== "object" || Array.isArray(tree)) {
    throw new MalformedBodyError(`OTLP JSON body must be an object with ${ROOT_FIELD[signal]}`);
  }
  return tree;
}

const ROOT_FIELD: Record<OtlpSignal, string> = {
  traces: "resourceSpans",
  metrics: "resourceMetrics",
  logs: "resourceLogs",
};
const SCOPE_FIELD: Record<OtlpSignal, string> = {
  traces: "scopeSpans",
  metrics: "scopeMetrics",
  logs: "scopeLogs",
};
const RECORDS_FIELD: Record<OtlpSignal, string> = { traces: "spans", metrics: "metrics", logs: "logRecords" };

/**
 * Maps an already parsed request (protobufjs message or OTLP JSON object) to events. `defaultService`
 * names resources that carry no `service.name` (the offline CLI's --service); without it they are rejected.
 */
export function decodeOtlpTree(
  signal: OtlpSignal,
  tree: Node,
  now = Date.now(),
  defaultService?: string,
): DecodeResult {
  const log = new RejectLog();
  const events: TelemetryEvent[] = [];
  let accepted = 0;
  const resources = list(tree[ROOT_FIELD[signal]], ROOT_FIELD[signal]);
  for (const rs of resources) {
    const resourceAttrs = attributes(rs?.resource?.attributes);
    const service = resourceAttrs["service.name"] || defaultService;
    const scopes = list(rs?.[SCOPE_FIELD[signal]], SCOPE_FIELD[signal]);
    if (typeof service !== "string" || service === "") {
      const n = scopes.reduce((sum, s) => sum + countRecords(signal, s), 0);
      if (n > 0) log.reject("resource has no service.name attribute", n);
      continue;
    }
    for (const scope of scopes) {
      for (const record of list(scope?.[RECORDS_FIELD[signal]], RECORDS_FIELD[signal])) {
        if (signal === "traces") {
          const span = toSpanEvent(record, service, resourceAttrs, log);
          if (span) {
            events.push(span);
            accepted++;
          }
        } else if (signal === "logs") {
          const ev = toLogEvent(record, service, resourceAttrs, now, log);
          if (ev) {
            events.push(ev);
            accepted++;
          }
        } else {
          accepted += toMetricEvents(record, service, resourceAttrs, now, events, log);
        }
      }
    }
  }
  return { events, accepted, rejected: log.rejected, reasons: log.reasons };
}

function list(v: unknown, field: string): Node[] {
  if (v == null) return [];
  if (!Array.isArray(v)) throw new MalformedBodyError(`${field} must be an array`);
  return v;
}

function countRecords(signal: OtlpSignal, scope: Node): number {
  const records = scope?.[RECORDS_FIELD[signal]];
  if (!Array.isArray(records)) return 0;
  if (signal !== "metrics") return records.length;
  return records.reduce((n: number, m: Node) => n + dataPointsOf(m).points.length, 0);
}

const has = (o: Node, k: string): boolean => o != null && Object.hasOwn(o, k) && o[k] != null;

// ── scalars ────────────────────────────────────────────────────────────────────────────────────────

/** int64/fixed64 as protobufjs Long, decimal string or number → number. */
export function int64(v: unknown): number {
  if (typeof v === "number") return v;
  if (typeof v === "string") return v === "" ? 0 : Number(v);
  if (v && typeof v === "object" && "low" in v && "high" in v) {
    const l = v as { low: number; high: number; unsigned?: boolean };
    const high = l.unsigned ? l.high >>> 0 : l.high;
    return high * 4294967296 + (l.low >>> 0);
  }
  return Number.NaN;
}

/** Nanoseconds since epoch → epoch milliseconds (fractional); 0 or absent → undefined. */
export function nanosToMs(v: unknown): number | undefined {
  if (v == null) return undefined;
  if (typeof v === "string" && v.length > 6 && /^\d+$/.test(v)) {
    // Split the decimal string so the millisecond part keeps its precision past 2^53 nanoseconds.
    return Number(v.slice(0, -6)) + Number(v.slice(-6)) / 1e6;
  }
  const n = int64(v);
  if (!Number.isFinite(n) || n < 0) return Number.NaN;
  return n === 0 ? undefined : n / 1e6;
}

const HEX = /^[0-9a-fA-F]*$/;

/** Trace/span id: bytes (protobuf) or hex string (JSON) → lowercase hex; empty → "". */
function idHex(v: unknown): string {
  if (v == null) return "";
  if (Buffer.isBuffer(v)) return v.length === 0 ? "" : v.toString("hex");
  if (v instanceof Uint8Array)
    return v.length === 0 ? "" : Buffer.from(v.buffer, v.byteOffset, v.length).toString("hex");
  if (typeof v === "string" && HEX.test(v)) return v.toLowerCase();
  // protobufjs's default for an absent bytes field is an empty plain array.
  if (Array.isArray(v) && v.length === 0) return "";
  return "invalid";
}

const ZEROS = /^0+$/;
const isZero = (hex: string) => ZEROS.test(hex);

/** OTLP AnyValue → a scalar attribute value; arrays and maps become JSON text. */
export function anyValue(v: Node): string | number | boolean | undefined {
  if (v == null || typeof v !== "object") return undefined;
  if (has(v, "stringValue")) return String(v.stringValue);
  if (has(v, "boolValue")) return Boolean(v.boolValue);
  if (has(v, "intValue")) {
    const n = int64(v.intValue);
    return Number.isFinite(n) ? n : String(v.intValue);
  }
  if (has(v, "doubleValue")) {
    const d = Number(v.doubleValue);
    return Number.isFinite(d) ? d : String(v.doubleValue);
  }
  if (has(v, "arrayValue")) return JSON.stringify(plain(v));
  if (has(v, "kvlistValue")) return JSON.stringify(plain(v));
  if (has(v, "bytesValue")) {
    const b = v.bytesValue;
    return b instanceof Uint8Array ? Buffer.from(b).toString("base64") : String(b);
  }
  return undefined;
}

function plain(v: Node): unknown {
  if (v == null || typeof v !== "object") return null;
  if (has(v, "arrayValue")) return list(v.arrayValue.values, "arrayValue.values").map(plain);
  if (has(v, "kvlistValue")) {
    const out: Record<string, unknown> = {};
    for (const kv of list(v.kvlistValue.values, "kvlistValue.values")) {
      if (kv && typeof kv.key === "string") out[kv.key] = plain(kv.value);
    }
    return out;
  }
  return anyValue(v) ?? null;
}

/** KeyValue list → flat attributes; entries without a key or a value are skipped. */
export function attributes(kvs: unknown): Attributes {
  const out: Attributes = {};
  if (!Array.isArray(kvs)) return out;
  for (const kv of kvs) {
    if (!kv || typeof kv.key !== "string" || kv.key === "") continue;
    const value = anyValue(kv.value);
    if (value !== undefined) out[kv.key] = value;
  }
  return out;
}

/** Integer enum (as the OTLP JSON spec requires) or, leniently, the proto3 JSON enum name. */
function enumValue(v: unknown, names: readonly string[]): number | undefined {
  if (v == null) return 0;
  if (typeof v === "number") return Number.isInteger(v) && v >= 0 && v < names.length ? v : undefined;
  if (typeof v === "string") {
    const i = names.indexOf(v);
    return i >= 0 ? i : undefined;
  }
  return undefined;
}

// ── spans ──────────────────────────────────────────────────────────────────────────────────────────

const SPAN_KIND_NAMES = [
  "SPAN_KIND_UNSPECIFIED",
  "SPAN_KIND_INTERNAL",
  "SPAN_KIND_SERVER",
  "SPAN_KIND_CLIENT",
  "SPAN_KIND_PRODUCER",
  "SPAN_KIND_CONSUMER",
] as const;
// The spec lets a receiver treat UNSPECIFIED as INTERNAL.
const SPAN_KINDS: SpanKind[] = ["internal", "internal", "server", "client", "producer", "consumer"];
const STATUS_NAMES = ["STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"] as const;
const STATUSES = ["unset", "ok", "error"] as const;

function toSpanEvent(s: Node, service: string, resource: Attributes, log: RejectLog): TelemetryEvent | null {
  if (s == null || typeof s !== "object") {
    log.reject("span is not an object");
    return null;
  }
  const traceId = idHex(s.traceId);
  const spanId = idHex(s.spanId);
  const parent = idHex(s.parentSpanId);
  if (traceId.length !== 32 || isZero(traceId)) {
    log.reject("span has an invalid traceId (want 16 bytes / 32 hex characters, not all zero)");
    return null;
  }
  if (spanId.length !== 16 || isZero(spanId)) {
    log.reject("span has an invalid spanId (want 8 bytes / 16 hex characters, not all zero)");
    return null;
  }
  if (parent !== "" && parent.length !== 16) {
    log.reject("span has an invalid parentSpanId (want 8 bytes / 16 hex characters)");
    return null;
  }
  const kind = enumValue(s.kind, SPAN_KIND_NAMES);
  if (kind === undefined) {
    log.reject(`unknown span kind ${JSON.stringify(s.kind)} (want an integer 0..5)`);
    return null;
  }
  const status = enumValue(s.status?.code, STATUS_NAMES);
  if (status === undefined) {
    log.reject(`unknown status code ${JSON.stringify(s.status?.code)} (want an integer 0..2)`);
    return null;
  }
  const start = nanosToMs(s.startTimeUnixNano);
  const end = nanosToMs(s.endTimeUnixNano) ?? start;
  if (start === undefined || end === undefined || Number.isNaN(start) || Number.isNaN(end) || end < start) {
    log.reject("span needs startTimeUnixNano and endTimeUnixNano with end >= start");
    return null;
  }
  const events: { name: string; time: number; attributes: Attributes }[] = [];
  for (const e of Array.isArray(s.events) ? s.events : []) {
    const time = nanosToMs(e?.timeUnixNano);
    if (time === undefined || Number.isNaN(time)) continue;
    events.push({ name: String(e.name ?? ""), time, attributes: attributes(e.attributes) });
  }
  const statusMessage = s.status?.message ? String(s.status.message) : undefined;
  // Optional keys are assigned in the contract's order rather than spread from conditional literals: a
  // spread copies through a runtime call and a temporary object per span, the hot path of trace ingest.
  const span = { traceId, spanId } as Span;
  if (parent !== "" && !isZero(parent)) span.parentSpanId = parent;
  span.name = String(s.name ?? "");
  span.kind = SPAN_KINDS[kind]!;
  span.startTime = start;
  span.endTime = end;
  span.status = STATUSES[status]!;
  if (statusMessage) span.statusMessage = statusMessage;
  span.attributes = attributes(s.attributes);
  span.events = events;
  return { schemaVersion: 1, kind: "span", service, time: start, attributes: resource, span };
}

// ── logs ───────────────────────────────────────────────────────────────────────────────────────────

/** OTLP SeverityNumber ranges (1–4 TRACE … 21–24 FATAL). */
function severityOf(n: number, text: unknown): Severity {
  if (n === 0) return severityFromText(text) ?? "info";
  if (n <= 4) return "trace";
  if (n <= 8) return "debug";
  if (n <= 12) return "info";
  if (n <= 16) return "warn";
  if (n <= 20) return "error";
  return "fatal";
}

/** Severity from a level word as loggers write it (`WARNING`, `err`, `Information`…). */
export function severityFromText(text: unknown): Severity | undefined {
  if (typeof text !== "string" || text === "") return undefined;
  const t = text.toLowerCase();
  if (t.startsWith("trace")) return "trace";
  if (t.startsWith("debug")) return "debug";
  if (t.startsWith("info") || t === "notice") return "info";
  if (t.startsWith("warn")) return "warn";
  if (t.startsWith("err") || t === "critical" || t === "crit" || t === "alert") return "error";
  if (t.startsWith("fatal") || t === "emerg" || t === "panic") return "fatal";
  return undefined;
}

const SEVERITY_NUMBER_MAX = 24;

function toLogEvent(
  r: Node,
  service: string,
  resource: Attributes,
  now: number,
  log: RejectLog,
): TelemetryEvent | null {
  if (r == null || typeof r !== "object") {
    log.reject("log record is not an object");
    return null;
  }
  const sevNum = r.severityNumber ?? 0;
  let sev: number | undefined;
  if (typeof sevNum === "number") sev = sevNum;
  else if (typeof sevNum === "string" && /^SEVERITY_NUMBER_/.test(sevNum))
    sev = severityNumberFromName(sevNum);
  if (sev === undefined || !Number.isInteger(sev) || sev < 0 || sev > SEVERITY_NUMBER_MAX) {
    log.reject(`unknown severityNumber ${JSON.stringify(sevNum)} (want an integer 0..24)`);
    return null;
  }
  const time = nanosToMs(r.timeUnixNano) ?? nanosToMs(r.observedTimeUnixNano) ?? now;
  if (Number.isNaN(time)) {
    log.reject("log record has an invalid timeUnixNano");
    return null;
  }
  const traceId = idHex(r.traceId);
  const spanId = idHex(r.spanId);
  const body = r.body == null ? "" : anyValue(r.body);
  const severityText = r.severityText ? String(r.severityText) : undefined;
  // Optional keys assigned in the contract's order, without a spread per record (see toSpanEvent).
  const record = {
    body: body === undefined ? "" : String(body),
    severity: severityOf(sev, severityText),
  } as LogRecord;
  if (severityText) record.severityText = severityText;
  if (traceId.length === 32 && !isZero(traceId)) record.traceId = traceId;
  if (spanId.length === 16 && !isZero(spanId)) record.spanId = spanId;
  record.attributes = attributes(r.attributes);
  return { schemaVersion: 1, kind: "log", service, time, attributes: resource, log: record };
}

const SEVERITY_NAMES = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"];

function severityNumberFromName(name: string): number | undefined {
  if (name === "SEVERITY_NUMBER_UNSPECIFIED") return 0;
  const m = /^SEVERITY_NUMBER_([A-Z]+)(\d)?$/.exec(name);
  if (!m) return undefined;
  const base = SEVERITY_NAMES.indexOf(m[1]!);
  const step = m[2] === undefined ? 1 : Number(m[2]);
  if (base < 0 || step < 1 || step > 4) return undefined;
  return base * 4 + step;
}

// ── metrics ────────────────────────────────────────────────────────────────────────────────────────

const AGG_DELTA = 1;

/** Unit suffixes the way Prometheus names OTLP metrics (`http.server.duration` + `s` → `…_seconds`). */
const UNIT_SUFFIX: Record<string, string> = {
  s: "seconds",
  ms: "milliseconds",
  us: "microseconds",
  ns: "nanoseconds",
  min: "minutes",
  h: "hours",
  d: "days",
  By: "bytes",
  KiBy: "kibibytes",
  MiBy: "mebibytes",
  KBy: "kilobytes",
  MBy: "megabytes",
  "%": "percent",
};

/** OTLP metric name + unit → a valid Prometheus metric name. */
export function prometheusName(
  name: string,
  unit: string,
  kind: "counter" | "gauge" | "histogram" | "summary",
) {
  let n = name.replace(/[^a-zA-Z0-9_:]/g, "_").replace(/__+/g, "_");
  if (n === "" || /^[0-9]/.test(n)) n = `_${n}`;
  const cleanUnit = unit.replace(/\{[^}]*\}/g, "").trim();
  const suffix = UNIT_SUFFIX[cleanUnit] ?? (cleanUnit === "1" && kind === "gauge" ? "ratio" : "");
  if (suffix && !n.endsWith(`_${suffix}`)) n = `${n}_${suffix}`;
  if (kind === "counter" && !n.endsWith("_total")) n = `${n}_total`;
  return n;
}

/** Attribute key → Prometheus label name. */
export function labelName(key: string): string {
  let n = key.replace(/[^a-zA-Z0-9_]/g, "_");
  if (/^[0-9]/.test(n)) n = `key_${n}`;
  return n;
}

function labelsOf(attrs: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(attributes(attrs))) out[labelName(k)] = String(v);
  return out;
}

interface PointsOf {
  kind: "gauge" | "sum" | "histogram" | "exponentialHistogram" | "summary" | "none";
  points: Node[];
  data: Node;
}

function dataPointsOf(m: Node): PointsOf {
  for (const kind of ["gauge", "sum", "histogram", "exponentialHistogram", "summary"] as const) {
    if (has(m, kind)) {
      const data = m[kind];
      return { kind, data, points: Array.isArray(data?.dataPoints) ? data.dataPoints : [] };
    }
  }
  return { kind: "none", data: undefined, points: [] };
}

function pointValue(p: Node): number | undefined {
  if (has(p, "asDouble")) return Number(p.asDouble);
  if (has(p, "asInt")) return int64(p.asInt);
  return undefined;
}

/** Data point flag FLAG_NO_RECORDED_VALUE: the point marks a gap, it carries no value. */
const NO_RECORDED_VALUE = 1;

function toMetricEvents(
  m: Node,
  service: string,
  resource: Attributes,
  now: number,
  out: TelemetryEvent[],
  log: RejectLog,
): number {
  if (m == null || typeof m !== "object") {
    log.reject("metric is not an object");
    return 0;
  }
  const { kind, data, points } = dataPointsOf(m);
  const name = String(m.name ?? "");
  const unit = String(m.unit ?? "");
  if (name === "") {
    log.reject("metric has no name", Math.max(points.length, 1));
    return 0;
  }
  if (kind === "none") return 0;
  if (
    (kind === "sum" || kind === "histogram" || kind === "exponentialHistogram") &&
    data.aggregationTemporality === AGG_DELTA
  ) {
    log.reject(`metric ${name} uses delta temporality; configure the exporter for cumulative`, points.length);
    return 0;
  }
  const emit = (
    series: string,
    type: MetricSeries["type"],
    labels: Record<string, string>,
    time: number,
    value: number,
  ) => {
    // Prometheus stores NaN/Inf but the event contract holds finite samples only; such a sample carries no rate.
    if (!Number.isFinite(value)) return;
    out.push({
      schemaVersion: 1,
      kind: "metric",
      service,
      time,
      attributes: resource,
      metric: { name: series, type, labels, samples: [{ time, value }] },
    });
  };
  let accepted = 0;
  for (const p of points) {
    if (p == null || typeof p !== "object") {
      log.reject(`metric ${name} has a data point that is not an object`);
      continue;
    }
    if ((Number(p.flags) & NO_RECORDED_VALUE) !== 0) continue;
    const time = nanosToMs(p.timeUnixNano) ?? now;
    if (Number.isNaN(time)) {
      log.reject(`metric ${name} has a data point with an invalid timeUnixNano`);
      continue;
    }
    const labels = labelsOf(p.attributes);
    if (kind === "gauge" || kind === "sum") {
      const v = pointValue(p);
      if (v === undefined || !Number.isFinite(v)) {
        log.reject(`metric ${name} has a data point without a finite asDouble/asInt value`);
        continue;
      }
      const counter = kind === "sum" && data.isMonotonic === true;
      emit(
        prometheusName(name, unit, counter ? "counter" : "gauge"),
        counter ? "counter" : "gauge",
        labels,
        time,
        v,
      );
    } else if (kind === "histogram") {
      const base = prometheusName(name, unit, "histogram");
      const bounds: number[] = (Array.isArray(p.explicitBounds) ? p.explicitBounds : []).map(Number);
      const counts: number[] = (Array.isArray(p.bucketCounts) ? p.bucketCounts : []).map(int64);
      if (counts.length > 0 && counts.length !== bounds.length + 1) {
        log.reject(
          `metric ${name} has ${counts.length} bucketCounts for ${bounds.length} explicitBounds (want bounds + 1)`,
        );
        continue;
      }
      const count = int64(p.count);
      let cumulative = 0;
      for (let i = 0; i < counts.length; i++) {
        cumulative += counts[i]!;
        const le = i < bounds.length ? String(bounds[i]) : "+Inf";
        emit(`${base}_bucket`, "histogram", { ...labels, le }, time, cumulative);
      }
      if (has(p, "sum")) emit(`${base}_sum`, "histogram", labels, time, Number(p.sum));
      emit(`${base}_count`, "histogram", labels, time, count);
    } else if (kind === "exponentialHistogram") {
      // Exponential buckets have no fixed `le` boundaries; the count and sum still give rate and mean.
      const base = prometheusName(name, unit, "histogram");
      if (has(p, "sum")) emit(`${base}_sum`, "histogram", labels, time, Number(p.sum));
      emit(`${base}_count`, "histogram", labels, time, int64(p.count));
    } else if (kind === "summary") {
      const base = prometheusName(name, unit, "summary");
      for (const q of Array.isArray(p.quantileValues) ? p.quantileValues : []) {
        emit(
          base,
          "summary",
          { ...labels, quantile: String(Number(q?.quantile ?? 0)) },
          time,
          Number(q?.value ?? 0),
        );
      }
      emit(`${base}_sum`, "summary", labels, time, Number(p.sum ?? 0));
      emit(`${base}_count`, "summary", labels, time, int64(p.count));
    }
    accepted++;
  }
  return accepted;
}
