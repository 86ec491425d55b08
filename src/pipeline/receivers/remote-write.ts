import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import snappy from "snappyjs";
import type { MetricSeries, TelemetryEvent } from "../../core/telemetry.js";
import { prometheusType } from "../prometheus-proto.js";
import { IngestHttpError, mediaType } from "./body.js";
import { httpContentId } from "./content-id.js";
import { type DecodeResult, describeRejects, MalformedBodyError, RejectLog } from "./decode-result.js";
import { int64 } from "./otlp-decode.js";
import type { ReceiverContext, RouteErrorFormat } from "./route-context.js";

/**
 * Prometheus remote_write 1.0: `POST /api/v1/write`, a snappy block-compressed protobuf WriteRequest.
 * 204 when every sample was taken; 400 (after the valid series were handed on, as the spec allows)
 * when some were invalid; 415 for remote_write 2.0 or another encoding; 503 + Retry-After under
 * backpressure, which Prometheus retries.
 */

export const REMOTE_WRITE = "remote-write";

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** MetricMetadata.MetricType numbers → the event's metric type. */
const METADATA_TYPES: Record<number, MetricSeries["type"]> = {
  1: "counter",
  2: "gauge",
  3: "histogram",
  4: "histogram",
  5: "summary",
};

/**
 * Metric types learnt from the metadata Prometheus sends in its own requests (about once a minute);
 * bounded so a sender with endless metric names cannot grow it.
 */
export class MetadataCache {
  private readonly types = new Map<string, MetricSeries["type"]>();
  constructor(private readonly max = 50_000) {}

  set(family: string, type: MetricSeries["type"]): void {
    if (!this.types.has(family) && this.types.size >= this.max) return;
    this.types.set(family, type);
  }

  /** Type of a series name: from metadata of its family, else from Prometheus naming conventions. */
  typeOf(name: string): MetricSeries["type"] {
    const known = this.types.get(name);
    if (known) return known;
    for (const suffix of ["_bucket", "_sum", "_count"]) {
      if (name.endsWith(suffix)) {
        const family = this.types.get(name.slice(0, -suffix.length));
        if (family === "histogram" || family === "summary") return family;
        if (suffix === "_bucket") return "histogram";
      }
    }
    if (name.endsWith("_total")) return "counter";
    return "unknown";
  }
}

/**
 * The uncompressed WriteRequest (already snappy-decoded) → one metric event per series. The service is the
 * `service` label, else `job`, else `defaultService` (the offline CLI's --service).
 */
export function decodeWriteRequest(
  body: Uint8Array,
  metadata = new MetadataCache(),
  defaultService?: string,
): DecodeResult {
  // biome-ignore lint/suspicious/noExplicitAny: protobufjs message walked structurally
  let req: any;
  try {
    req = prometheusType("WriteRequest").decode(body);
  } catch (err) {
    throw new MalformedBodyError(`invalid WriteRequest protobuf: ${(err as Error).message}`);
  }
  for (const m of req.metadata ?? []) {
    const type = METADATA_TYPES[m.type as number];
    if (type && m.metricFamilyName) metadata.set(String(m.metricFamilyName), type);
  }
  const log = new RejectLog();
  const events: TelemetryEvent[] = [];
  let accepted = 0;
  for (const ts of req.timeseries ?? []) {
    const samples: { time: number; value: number }[] = [];
    let invalidTime = false;
    for (const s of ts.samples ?? []) {
      const time = int64(s.timestamp);
      if (!Number.isFinite(time) || time <= 0) invalidTime = true;
      // NaN is Prometheus's stale marker (and a legal gauge value); the event contract carries finite samples.
      else if (Number.isFinite(s.value)) samples.push({ time, value: s.value });
    }
    const total = (ts.samples ?? []).length;
    if (total === 0) continue;
    const labels: Record<string, string> = {};
    let reason: string | undefined;
    for (const l of ts.labels ?? []) {
      const name = String(l.name ?? "");
      const value = String(l.value ?? "");
      if (!LABEL_NAME.test(name)) reason ??= `invalid label name ${JSON.stringify(name)}`;
      else if (Object.hasOwn(labels, name)) reason ??= `duplicate label ${name}`;
      else if (value !== "") labels[name] = value;
    }
    const name = labels.__name__;
    if (!reason && name === undefined) reason = "series has no __name__ label";
    if (!reason && !METRIC_NAME.test(name!)) reason = `invalid metric name ${JSON.stringify(name)}`;
    const service = labels.service ?? labels.job ?? defaultService;
    if (!reason && !service) reason = `series ${name} has neither a service nor a job label`;
    if (!reason && invalidTime) reason = `series ${name} has a sample without a valid timestamp`;
    if (reason) {
      log.reject(reason, total);
      continue;
    }
    accepted += total;
    if (samples.length === 0) continue;
    samples.sort((a, b) => a.time - b.time);
    delete labels.__name__;
    events.push({
      schemaVersion: 1,
      kind: "metric",
      service: service!,
      time: samples[samples.length - 1]!.time,
      attributes: {},
      metric: { name: name!, type: metadata.typeOf(name!), labels, samples },
    });
  }
  return { events, accepted, rejected: log.rejected, reasons: log.reasons };
}

/** Snappy block decode, capped at `limit` bytes of output. */
export function unsnappy(body: Uint8Array, limit: number): Uint8Array {
  try {
    return snappy.uncompress(body, limit);
  } catch (err) {
    const message = (err as Error).message;
    if (/too big/.test(message))
      throw new IngestHttpError(413, `decompressed body exceeds the limit of ${limit} bytes`);
    throw new IngestHttpError(400, `invalid snappy block: ${message}`);
  }
}

const textError: RouteErrorFormat = (_req, _status, message) => ({
  contentType: "text/plain",
  body: `${message}\n`,
});

export function registerRemoteWrite(app: FastifyInstance, ctx: ReceiverContext): void {
  const metadata = new MetadataCache();
  app.post(
    "/api/v1/write",
    { config: { receiver: REMOTE_WRITE, errorFormat: textError } },
    async (req: FastifyRequest, reply: FastifyReply) => {
      const contentType = req.headers["content-type"] ?? "";
      const proto = /;\s*proto=([^;\s]+)/.exec(contentType)?.[1];
      if (
        mediaType(contentType) !== "application/x-protobuf" ||
        (proto && proto !== "prometheus.WriteRequest")
      ) {
        throw new IngestHttpError(
          415,
          `unsupported Content-Type ${JSON.stringify(contentType)}; remote_write 1.0 sends application/x-protobuf`,
        );
      }
      const encoding = String(req.headers["content-encoding"] ?? "").toLowerCase();
      if (encoding !== "snappy") {
        throw new IngestHttpError(
          415,
          `remote_write bodies must be snappy-compressed (Content-Encoding: snappy)`,
        );
      }
      const raw = unsnappy(req.body as Buffer, ctx.maxBodyBytes);
      const result = ctx.decode(() => decodeWriteRequest(raw, metadata));
      await ctx.ingestor.hand(REMOTE_WRITE, "metrics", result, () => httpContentId(req));
      if (result.rejected > 0) throw new IngestHttpError(400, describeRejects(result));
      reply.code(204).send();
    },
  );
}
