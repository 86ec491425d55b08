import { decodeMulti, ExtData } from "@msgpack/msgpack";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Attributes, TelemetryEvent } from "../../core/telemetry.js";
import { decodeContentEncoding, IngestHttpError, mediaType } from "./body.js";
import { httpContentId } from "./content-id.js";
import { type DecodeResult, describeRejects, MalformedBodyError, RejectLog } from "./decode-result.js";
import { severityFromText } from "./otlp-decode.js";
import type { ReceiverContext } from "./route-context.js";

/**
 * Fluent Bit's `http` output: `POST /ingest/fluentbit` with `format json` (an array), `json_lines`
 * (`application/x-ndjson`), `json_stream` (concatenated objects) or `msgpack` (raw `[time, record]`
 * events, also the v2 `[[time, metadata], record]` form). The `date` key is fractional epoch seconds
 * by default; the service comes from a configurable record key, falling back to Kubernetes labels.
 */

export const FLUENT_BIT = "fluentbit";

export type FluentBitFormat = "json" | "json_lines" | "msgpack";

export interface FluentBitOptions {
  /** Dotted path of the record key naming the service (FLUENTBIT_SERVICE_KEY). */
  serviceKey: string;
  /** Fluent Bit's tag, when the output sends it (`header_tag`). */
  tag?: string;
  now?: number;
  /** Service for records that name none (the offline CLI's --service); without it they are rejected. */
  defaultService?: string;
}

const DATE_KEYS = ["date", "@timestamp", "timestamp", "time"];
const BODY_KEYS = ["log", "message", "msg"];
const LEVEL_KEYS = ["level", "severity", "loglevel", "log.level", "lvl"];
const MAX_ATTRIBUTES = 64;
const MAX_DEPTH = 4;

export function formatOf(contentType: string | undefined): FluentBitFormat | undefined {
  const type = mediaType(contentType);
  if (type === "application/json") return "json";
  if (type === "application/x-ndjson" || type === "application/jsonl" || type === "application/json-lines") {
    return "json_lines";
  }
  if (type === "application/msgpack" || type === "application/x-msgpack") return "msgpack";
  return undefined;
}

export function decodeFluentBit(
  body: Uint8Array,
  format: FluentBitFormat,
  options: FluentBitOptions,
): DecodeResult {
  const now = options.now ?? Date.now();
  const log = new RejectLog();
  const events: TelemetryEvent[] = [];
  let accepted = 0;
  const take = (record: unknown, eventTime?: number) => {
    const ev = toEvent(record, eventTime, options, now, log);
    if (ev) {
      events.push(ev);
      accepted++;
    }
  };
  if (format === "msgpack") {
    for (const [time, record] of msgpackEvents(body)) take(record, time);
  } else {
    for (const record of jsonRecords(
      Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8"),
      format,
    )) {
      take(record);
    }
  }
  return { events, accepted, rejected: log.rejected, reasons: log.reasons };
}

function jsonRecords(text: string, format: FluentBitFormat): unknown[] {
  const trimmed = text.trim();
  if (trimmed === "") return [];
  if (format === "json" && trimmed.startsWith("[")) {
    const parsed = parseJson(trimmed, "body");
    if (!Array.isArray(parsed)) throw new MalformedBodyError("json body must be an array of records");
    return parsed;
  }
  if (format === "json") {
    // json_stream sends concatenated objects under application/json; a lone object is the 1-record case.
    return splitConcatenated(trimmed);
  }
  const out: unknown[] = [];
  let lineNo = 0;
  for (const line of trimmed.split("\n")) {
    lineNo++;
    if (line.trim() === "") continue;
    out.push(parseJson(line, `line ${lineNo}`));
  }
  return out;
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new MalformedBodyError(`invalid JSON in ${where}: ${(err as Error).message}`);
  }
}

/** Splits `{…}{…}\n{…}` at top-level object boundaries (strings and escapes respected). */
function splitConcatenated(text: string): unknown[] {
  const out: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === "{") {
      if (depth === 0) start = i;
      depth++;
    } else if (c === "}") {
      depth--;
      if (depth === 0) out.push(parseJson(text.slice(start, i + 1), `record ${out.length + 1}`));
      if (depth < 0) break;
    } else if (depth === 0 && !/\s/.test(c!)) {
      throw new MalformedBodyError(`invalid JSON: unexpected ${JSON.stringify(c)} at offset ${i}`);
    }
  }
  if (depth !== 0 || inString) throw new MalformedBodyError("invalid JSON: unterminated record");
  return out;
}

/** Fluent Bit msgpack events → [epoch ms | undefined, record]. */
function* msgpackEvents(body: Uint8Array): Generator<[number | undefined, unknown]> {
  let items: Iterable<unknown>;
  try {
    items = [...decodeMulti(body)];
  } catch (err) {
    throw new MalformedBodyError(`invalid msgpack: ${(err as Error).message}`);
  }
  for (const item of items) {
    if (!Array.isArray(item) || item.length < 2) {
      yield [undefined, null];
      continue;
    }
    const head = item[0];
    const ts = Array.isArray(head) ? head[0] : head;
    yield [eventTime(ts), item[1]];
  }
}

/** Fluent's EventTime (ext type 0: uint32 seconds, uint32 nanoseconds), or an integer / float epoch. */
function eventTime(ts: unknown): number | undefined {
  if (ts instanceof ExtData && ts.type === 0 && ts.data instanceof Uint8Array && ts.data.length === 8) {
    const view = new DataView(ts.data.buffer, ts.data.byteOffset, 8);
    return view.getUint32(0) * 1000 + view.getUint32(4) / 1e6;
  }
  if (ts instanceof Date) return ts.getTime();
  if (typeof ts === "number" && Number.isFinite(ts) && ts > 0) return epochToMs(ts);
  return undefined;
}

/** Epoch seconds (Fluent Bit's default `double`) or milliseconds (`epoch_ms`) → ms. */
function epochToMs(n: number): number {
  return n > 1e11 ? n : n * 1000;
}

function dateOf(v: unknown): number | undefined {
  if (typeof v === "number") return Number.isFinite(v) && v > 0 ? epochToMs(v) : undefined;
  if (typeof v === "string" && v !== "") {
    if (/^\d+(\.\d+)?$/.test(v)) return epochToMs(Number(v));
    // iso8601 and java_sql_timestamp ("2018-05-30 09:39:52.000681"), both UTC.
    const iso = v.includes("T") ? v : `${v.replace(" ", "T")}Z`;
    const t = Date.parse(iso);
    return Number.isNaN(t) ? undefined : t;
  }
  return undefined;
}

/**
 * The dotted paths looked up are the configured service key and the constants above, so their parts are
 * split once rather than per record and key.
 */
const PATHS = new Map<string, string[]>();
function pathParts(path: string): string[] {
  let parts = PATHS.get(path);
  if (!parts) {
    parts = path.split(".");
    if (PATHS.size < 64) PATHS.set(path, parts);
  }
  return parts;
}

/** A record key by exact name first (`kubernetes.labels.app` may be one flat key), then as a path. */
export function lookup(record: Record<string, unknown>, path: string): unknown {
  if (Object.hasOwn(record, path)) return record[path];
  let cur: unknown = record;
  for (const part of pathParts(path)) {
    if (cur === null || typeof cur !== "object" || !Object.hasOwn(cur, part)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function text(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (v instanceof Uint8Array) return Buffer.from(v).toString("utf8");
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return undefined;
}

function serviceOf(record: Record<string, unknown>, key: string): string | undefined {
  const labels = lookup(record, "kubernetes.labels");
  const candidates = [
    lookup(record, key),
    lookup(record, "kubernetes.labels.app"),
    labels !== null && typeof labels === "object"
      ? (labels as Record<string, unknown>)["app.kubernetes.io/name"]
      : undefined,
  ];
  for (const v of candidates) {
    const s = text(v)?.trim();
    if (s) return s;
  }
  return undefined;
}

/** Attributes flattened so far: the keys of `out` and their count, kept apart so no call counts them again. */
interface Flat {
  out: Attributes;
  keys: number;
}

function flatten(value: unknown, prefix: string, flat: Flat, depth: number): void {
  if (flat.keys >= MAX_ATTRIBUTES) return;
  if (value === null || value === undefined) return;
  if (
    typeof value === "object" &&
    !Array.isArray(value) &&
    !(value instanceof Uint8Array) &&
    depth < MAX_DEPTH
  ) {
    const o = value as Record<string, unknown>;
    for (const k of Object.keys(o)) flatten(o[k], prefix ? `${prefix}.${k}` : k, flat, depth + 1);
    return;
  }
  let v: string | number | boolean;
  if (typeof value === "string" || typeof value === "boolean") v = value;
  else if (typeof value === "number") v = Number.isFinite(value) ? value : String(value);
  else if (value instanceof Uint8Array) v = Buffer.from(value).toString("utf8");
  else if (typeof value === "object") v = safeJson(value);
  else v = String(value);
  if (!Object.hasOwn(flat.out, prefix)) flat.keys++;
  flat.out[prefix] = v;
}

function safeJson(v: unknown): string {
  try {
    return (
      JSON.stringify(v, (_k, x) =>
        typeof x === "bigint" ? String(x) : x instanceof Uint8Array ? Buffer.from(x).toString("utf8") : x,
      ) ?? ""
    );
  } catch {
    return String(v);
  }
}

function toEvent(
  record: unknown,
  eventTime: number | undefined,
  options: FluentBitOptions,
  now: number,
  log: RejectLog,
): TelemetryEvent | null {
  if (record === null || typeof record !== "object" || Array.isArray(record)) {
    log.reject("record is not an object (want a JSON object or a msgpack [time, map] event)");
    return null;
  }
  const r = record as Record<string, unknown>;
  const service = serviceOf(r, options.serviceKey) ?? options.defaultService;
  if (!service) {
    log.reject(`record has no service (key ${options.serviceKey}, or kubernetes.labels.app)`);
    return null;
  }
  let time = eventTime;
  let dateKey: string | undefined;
  for (const k of DATE_KEYS) {
    if (Object.hasOwn(r, k)) {
      dateKey = k;
      time ??= dateOf(r[k]);
      break;
    }
  }
  if (dateKey !== undefined && time === undefined) {
    log.reject(`record has an unreadable ${dateKey} (want epoch seconds, epoch ms or ISO 8601)`);
    return null;
  }
  let bodyKey: string | undefined;
  let body: string | undefined;
  for (const k of BODY_KEYS) {
    if (Object.hasOwn(r, k)) {
      bodyKey = k;
      body = text(r[k]) ?? safeJson(r[k]);
      break;
    }
  }
  const rest: Record<string, unknown> = {};
  for (const k of Object.keys(r)) if (k !== bodyKey && k !== dateKey) rest[k] = r[k];
  if (body === undefined) body = safeJson(rest);
  let severity: ReturnType<typeof severityFromText>;
  let severityText: string | undefined;
  for (const k of LEVEL_KEYS) {
    const t = text(lookup(r, k));
    if (t) {
      severity = severityFromText(t);
      severityText = t;
      if (severity) break;
    }
  }
  const attributes: Attributes = {};
  flatten(rest, "", { out: attributes, keys: 0 }, 0);
  if (options.tag) attributes["fluentbit.tag"] = options.tag;
  return {
    schemaVersion: 1,
    kind: "log",
    service,
    time: time ?? now,
    attributes,
    log: {
      body,
      severity: severity ?? "info",
      ...(severityText ? { severityText } : {}),
      attributes: {},
    },
  };
}

export function registerFluentBit(app: FastifyInstance, ctx: ReceiverContext): void {
  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    const format = formatOf(req.headers["content-type"]);
    if (!format) {
      throw new IngestHttpError(
        415,
        `unsupported Content-Type ${JSON.stringify(req.headers["content-type"] ?? "")}; Fluent Bit sends application/json, application/x-ndjson or application/msgpack`,
      );
    }
    const raw = await decodeContentEncoding(
      req.body as Buffer,
      req.headers["content-encoding"] as string | undefined,
      ctx.maxBodyBytes,
    );
    const tag = req.headers["fluent-tag"] ?? req.headers["x-fluent-tag"];
    const result = ctx.decode(() =>
      decodeFluentBit(raw, format, {
        serviceKey: ctx.fluentBitServiceKey,
        ...(typeof tag === "string" ? { tag } : {}),
      }),
    );
    if (result.accepted === 0 && result.rejected > 0) {
      ctx.metrics.records(FLUENT_BIT, "logs", "rejected", result.rejected);
      throw new IngestHttpError(400, describeRejects(result));
    }
    await ctx.ingestor.hand(FLUENT_BIT, "logs", result, () => httpContentId(req));
    reply
      .code(200)
      .type("application/json")
      .send(
        JSON.stringify({
          accepted: result.accepted,
          rejected: result.rejected,
          ...(result.rejected ? { errors: result.reasons } : {}),
        }),
      );
  };
  const config = { receiver: FLUENT_BIT };
  app.post("/ingest/fluentbit", { config }, handler);
  // Fluent Bit's `http_method PUT` is an option of its http output.
  app.put("/ingest/fluentbit", { config }, handler);
}
