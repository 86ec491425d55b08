import type { Readable } from "node:stream";
import { TelemetryEvent } from "../../core/telemetry.js";
import { type DecodeResult, MalformedBodyError, RejectLog } from "./decode-result.js";
import { decodeFaro } from "./faro.js";
import { decodeFluentBit } from "./fluentbit.js";
import { decodeOpenMetrics } from "./openmetrics.js";
import { decodeOtlp, decodeOtlpTree } from "./otlp-decode.js";
import type { OtlpSignal } from "./otlp-proto.js";
import { decodeWriteRequest, MetadataCache, unsnappy } from "./remote-write.js";
import { decodeTextLines } from "./text.js";

/**
 * The offline side of the receivers: a file (or stdin) in one of the wire formats, decoded by the same
 * decoders the HTTP and gRPC receivers use, in chunks so a large file never sits in memory as events.
 * Line-oriented inputs stream (text, Fluent Bit json_lines, one OTLP/Faro request per line as the
 * Collector's file exporter writes); single documents (a JSON array, protobuf, msgpack) are read whole.
 */

export const INGEST_FORMATS = [
  "otlp-json",
  "otlp-proto",
  "remote-write",
  "openmetrics",
  "fluentbit",
  "faro",
  "text",
] as const;
export type IngestFormat = (typeof INGEST_FORMATS)[number];

export interface OfflineOptions {
  format: IngestFormat;
  /** Service for records that name none; required for `text`. */
  service?: string;
  /** Which OTLP request an `otlp-proto` file holds. */
  signal?: OtlpSignal;
  fluentBitServiceKey: string;
  /** Largest single document (or line) accepted, like the receivers' body limit. */
  maxBodyBytes: number;
  /** Lines per chunk for line-oriented formats. */
  batchLines?: number;
  now?: () => number;
}

export interface OfflineChunk {
  /** Signal label for the counters (traces, metrics, logs, rum). */
  signal: string;
  result: DecodeResult;
  /** Input bytes this chunk covers, for progress. */
  bytes: number;
}

interface Line {
  /** The line's bytes without its newline. */
  raw: Buffer;
  /** Whether a newline followed it (false only for a last line without one). */
  newline: boolean;
  /** Input bytes, newline included. */
  bytes: number;
}

const textOf = (l: Line) => l.raw.toString("utf8");

/** Splits a byte stream into lines without decoding them (a peeked binary input must survive intact). */
async function* lines(input: Readable, maxLine: number): AsyncGenerator<Line> {
  let rest = Buffer.alloc(0);
  for await (const chunk of input as AsyncIterable<Buffer | string>) {
    const buf = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    const data = rest.length > 0 ? Buffer.concat([rest, buf]) : buf;
    let start = 0;
    for (let nl = data.indexOf(10, start); nl >= 0; nl = data.indexOf(10, start)) {
      yield { raw: data.subarray(start, nl), newline: true, bytes: nl - start + 1 };
      start = nl + 1;
    }
    rest = Buffer.from(data.subarray(start));
    if (rest.length > maxLine) throw new MalformedBodyError(`a line is longer than ${maxLine} bytes`);
  }
  if (rest.length > 0) yield { raw: rest, newline: false, bytes: rest.length };
}

async function readAll(input: Readable, limit: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of input as AsyncIterable<Buffer | string>) {
    const buf = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    size += buf.length;
    if (size > limit)
      throw new MalformedBodyError(`input exceeds ${limit} bytes; split it or use a line-oriented format`);
    parts.push(buf);
  }
  return Buffer.concat(parts, size);
}

function otlpSignalOf(tree: Record<string, unknown>): OtlpSignal {
  if ("resourceSpans" in tree) return "traces";
  if ("resourceMetrics" in tree) return "metrics";
  if ("resourceLogs" in tree) return "logs";
  throw new MalformedBodyError("OTLP JSON request has none of resourceSpans, resourceMetrics, resourceLogs");
}

const NEWLINE = Buffer.from("\n");

const SIGNAL_LABEL: Record<OtlpSignal, string> = { traces: "traces", metrics: "metrics", logs: "logs" };

/** Decodes the input chunk by chunk. Throws MalformedBodyError when the input cannot be read at all. */
export async function* decodeOffline(input: Readable, options: OfflineOptions): AsyncGenerator<OfflineChunk> {
  const now = options.now ?? Date.now;
  const batch = options.batchLines ?? 5000;
  const { format, service } = options;

  if (format === "otlp-proto") {
    if (!options.signal)
      throw new MalformedBodyError("otlp-proto needs the signal (traces, metrics or logs)");
    const body = await readAll(input, options.maxBodyBytes);
    yield {
      signal: options.signal,
      result: decodeOtlp(options.signal, body, "protobuf", now(), service),
      bytes: body.length,
    };
    return;
  }
  if (format === "openmetrics") {
    const body = await readAll(input, options.maxBodyBytes);
    yield {
      signal: "metrics",
      result: decodeOpenMetrics(body.toString("utf8"), service),
      bytes: body.length,
    };
    return;
  }
  if (format === "remote-write") {
    const body = await readAll(input, options.maxBodyBytes);
    // As captured from the wire (snappy) or already uncompressed.
    let raw: Uint8Array = body;
    try {
      raw = unsnappy(body, options.maxBodyBytes);
    } catch {
      raw = body;
    }
    yield {
      signal: "metrics",
      result: decodeWriteRequest(raw, new MetadataCache(), service),
      bytes: body.length,
    };
    return;
  }

  const it = lines(input, options.maxBodyBytes)[Symbol.asyncIterator]();
  // Peek at the first non-empty line to choose between streaming lines and one whole document.
  const head: Line[] = [];
  let first: string | undefined;
  for (;;) {
    const n = await it.next();
    if (n.done) break;
    head.push(n.value);
    const text = textOf(n.value).trim();
    if (text !== "") {
      first = text;
      break;
    }
  }
  if (first === undefined) return;
  const rest = async function* () {
    yield* head;
    for (;;) {
      const n = await it.next();
      if (n.done) return;
      yield n.value;
    }
  };
  const wholeDocument = async (): Promise<{ text: string; bytes: number }> => {
    const parts: string[] = [];
    let bytes = 0;
    for await (const l of rest()) {
      parts.push(textOf(l));
      bytes += l.bytes;
      if (bytes > options.maxBodyBytes)
        throw new MalformedBodyError(`input exceeds ${options.maxBodyBytes} bytes`);
    }
    return { text: parts.join("\n"), bytes };
  };
  const parsesAsObject = (line: string) => {
    try {
      const v = JSON.parse(line);
      return v !== null && typeof v === "object" && !Array.isArray(v);
    } catch {
      return false;
    }
  };

  if (format === "text") {
    if (!service) throw new MalformedBodyError("text input needs a service (--service NAME)");
    let pending: string[] = [];
    let bytes = 0;
    for await (const l of rest()) {
      pending.push(textOf(l));
      bytes += l.bytes;
      if (pending.length >= batch) {
        yield { signal: "logs", result: decodeTextLines(pending, service, now()), bytes };
        pending = [];
        bytes = 0;
      }
    }
    if (pending.length > 0 || bytes > 0)
      yield { signal: "logs", result: decodeTextLines(pending, service, now()), bytes };
    return;
  }

  if (format === "fluentbit") {
    const fbOptions = {
      serviceKey: options.fluentBitServiceKey,
      ...(service ? { defaultService: service } : {}),
    };
    if (first.startsWith("[")) {
      const doc = await wholeDocument();
      yield {
        signal: "logs",
        result: decodeFluentBit(Buffer.from(doc.text), "json", { ...fbOptions, now: now() }),
        bytes: doc.bytes,
      };
      return;
    }
    if (!first.startsWith("{")) {
      // msgpack is binary: the line split above was only a peek, so the bytes are re-joined exactly.
      const parts: Buffer[] = [];
      let bytes = 0;
      for await (const l of rest()) {
        parts.push(l.raw);
        if (l.newline) parts.push(NEWLINE);
        bytes += l.bytes;
        if (bytes > options.maxBodyBytes)
          throw new MalformedBodyError(`input exceeds ${options.maxBodyBytes} bytes`);
      }
      const body = Buffer.concat(parts);
      yield { signal: "logs", result: decodeFluentBit(body, "msgpack", { ...fbOptions, now: now() }), bytes };
      return;
    }
    let pending: string[] = [];
    let bytes = 0;
    for await (const l of rest()) {
      pending.push(textOf(l));
      bytes += l.bytes;
      if (pending.length >= batch) {
        yield {
          signal: "logs",
          result: decodeFluentBit(Buffer.from(pending.join("\n")), "json_lines", {
            ...fbOptions,
            now: now(),
          }),
          bytes,
        };
        pending = [];
        bytes = 0;
      }
    }
    if (pending.length > 0) {
      yield {
        signal: "logs",
        result: decodeFluentBit(Buffer.from(pending.join("\n")), "json_lines", { ...fbOptions, now: now() }),
        bytes,
      };
    }
    return;
  }

  // otlp-json and faro: one request per line (the Collector's file exporter), or one whole document.
  const decodeDoc = (text: string): { signal: string; result: DecodeResult } => {
    if (format === "faro") return { signal: "rum", result: decodeFaro(Buffer.from(text), now(), service) };
    let tree: Record<string, unknown>;
    try {
      tree = JSON.parse(text);
    } catch (err) {
      throw new MalformedBodyError(`invalid JSON: ${(err as Error).message}`);
    }
    if (tree === null || typeof tree !== "object" || Array.isArray(tree)) {
      throw new MalformedBodyError("OTLP JSON input must hold request objects");
    }
    const signal = otlpSignalOf(tree);
    return { signal: SIGNAL_LABEL[signal], result: decodeOtlpTree(signal, tree, now(), service) };
  };
  if (!parsesAsObject(first)) {
    const doc = await wholeDocument();
    yield { ...decodeDoc(doc.text), bytes: doc.bytes };
    return;
  }
  let lineNo = 0;
  for await (const l of rest()) {
    lineNo++;
    if (l.raw.length === 0 || textOf(l).trim() === "") continue;
    try {
      yield { ...decodeDoc(textOf(l)), bytes: l.bytes };
    } catch (err) {
      // One bad request line is that line's records lost, not the whole file.
      const log = new RejectLog();
      log.reject(`line ${lineNo}: ${(err as Error).message}`);
      yield {
        signal: format === "faro" ? "rum" : "unknown",
        result: { events: [], accepted: 0, ...log },
        bytes: l.bytes,
      };
    }
  }
}

/**
 * Checks events that did not come through a wire decoder (the demo shop's) against the contract, so they
 * reach the bus only after the same validation as anything a receiver publishes.
 */
export function validateEvents(candidates: readonly unknown[]): DecodeResult {
  const log = new RejectLog();
  const events: TelemetryEvent[] = [];
  for (const c of candidates) {
    const parsed = TelemetryEvent.safeParse(c);
    if (parsed.success) events.push(parsed.data);
    else {
      const issue = parsed.error.issues[0];
      log.reject(
        `invalid event: ${issue ? `${issue.path.join(".")}: ${issue.message}` : "does not match TelemetryEvent"}`,
      );
    }
  }
  return { events, accepted: events.length, rejected: log.rejected, reasons: log.reasons };
}
