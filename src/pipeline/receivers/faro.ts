import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Attributes, RumEvent, TelemetryEvent } from "../../core/telemetry.js";
import { decodeContentEncoding, IngestHttpError, mediaType } from "./body.js";
import { httpContentId } from "./content-id.js";
import { type DecodeResult, describeRejects, MalformedBodyError, RejectLog } from "./decode-result.js";
import { decodeOtlpTree } from "./otlp-decode.js";
import type { ReceiverContext } from "./route-context.js";

/**
 * Browser RUM from the Grafana Faro Web SDK: `POST /ingest/rum` with Faro's transport body
 * (`meta`, `logs`, `exceptions`, `measurements` incl. web vitals, `events`, `traces` as OTLP JSON),
 * answered 202 as Faro's own receiver does. The service is the Faro app name.
 */

export const FARO = "faro";

// biome-ignore lint/suspicious/noExplicitAny: untrusted JSON walked structurally
type Json = any;

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

/** What of `meta` describes where the event happened; user identity is left out on purpose. */
function metaAttributes(meta: Json): Attributes {
  const out: Attributes = {};
  const put = (key: string, v: unknown) => {
    if (typeof v === "string" ? v !== "" : typeof v === "number" || typeof v === "boolean") {
      out[key] = v as string | number | boolean;
    }
  };
  put("app.version", meta?.app?.version);
  put("app.release", meta?.app?.release);
  put("app.environment", meta?.app?.environment);
  put("browser.name", meta?.browser?.name);
  put("browser.version", meta?.browser?.version);
  put("browser.os", meta?.browser?.os);
  put("browser.mobile", meta?.browser?.mobile);
  put("view.name", meta?.view?.name);
  put("sdk.name", meta?.sdk?.name);
  put("sdk.version", meta?.sdk?.version);
  return out;
}

function timeOf(v: unknown, now: number): number | undefined {
  if (v === undefined || v === null) return now;
  if (typeof v === "string") {
    const t = Date.parse(v);
    return Number.isNaN(t) || t < 0 ? undefined : t;
  }
  if (typeof v === "number" && Number.isFinite(v) && v > 0) return v;
  return undefined;
}

const items = (v: unknown, field: string): Json[] => {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new MalformedBodyError(`${field} must be an array`);
  return v;
};

/** `defaultService` stands in for a missing `meta.app.name` (the offline CLI's --service). */
export function decodeFaro(body: Uint8Array, now = Date.now(), defaultService?: string): DecodeResult {
  let payload: Json;
  try {
    payload = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8"));
  } catch (err) {
    throw new MalformedBodyError(`invalid JSON: ${(err as Error).message}`);
  }
  if (payload === null || typeof payload !== "object" || Array.isArray(payload)) {
    throw new MalformedBodyError(
      "Faro body must be an object with meta and logs/exceptions/measurements/events/traces",
    );
  }
  const kinds = {
    measurements: items(payload.measurements, "measurements"),
    exceptions: items(payload.exceptions, "exceptions"),
    logs: items(payload.logs, "logs"),
    events: items(payload.events, "events"),
  };
  const log = new RejectLog();
  const events: TelemetryEvent[] = [];
  let accepted = 0;
  const meta = payload.meta;
  const service = str(meta?.app?.name) ?? defaultService;
  const total = Object.values(kinds).reduce((n, list) => n + list.length, 0);
  if (!service) {
    const spans = countSpans(payload.traces);
    if (total + spans > 0) log.reject("meta.app.name is missing (it names the service)", total + spans);
    return { events, accepted, rejected: log.rejected, reasons: log.reasons };
  }
  const base = metaAttributes(meta);
  const page = str(meta?.page?.url);
  const sessionId = str(meta?.session?.id);
  const push = (
    item: Json,
    what: string,
    rum: Omit<RumEvent, "values"> & { values?: Record<string, number> },
    extra?: Attributes,
  ) => {
    if (item === null || typeof item !== "object") {
      log.reject(`${what} item is not an object`);
      return;
    }
    const time = timeOf(item.timestamp, now);
    if (time === undefined) {
      log.reject(`${what} has an invalid timestamp (want ISO 8601)`);
      return;
    }
    const traceId = str(item.trace?.trace_id);
    events.push({
      schemaVersion: 1,
      kind: "rum",
      service,
      time,
      attributes: extra ? { ...base, ...extra } : base,
      rum: {
        ...rum,
        values: rum.values ?? {},
        ...(page ? { page } : {}),
        ...(sessionId ? { sessionId } : {}),
        ...(traceId ? { traceId } : {}),
      },
    });
    accepted++;
  };
  for (const m of kinds.measurements) {
    const values: Record<string, number> = {};
    for (const [k, v] of Object.entries(m?.values ?? {}))
      if (typeof v === "number" && Number.isFinite(v)) values[k] = v;
    if (Object.keys(values).length === 0) {
      log.reject("measurement has no numeric values");
      continue;
    }
    push(m, "measurement", { type: "measurement", name: str(m?.type) ?? "measurement", values });
  }
  for (const e of kinds.exceptions) {
    const message = str(e?.value);
    push(e, "exception", {
      type: "exception",
      name: str(e?.type) ?? "Error",
      ...(message ? { message } : {}),
    });
  }
  for (const l of kinds.logs) {
    const message = typeof l?.message === "string" ? l.message : undefined;
    push(l, "log", {
      type: "log",
      name: str(l?.level) ?? "info",
      ...(message !== undefined ? { message } : {}),
    });
  }
  for (const e of kinds.events) {
    const name = str(e?.name);
    if (!name) {
      log.reject("event has no name");
      continue;
    }
    const extra: Attributes = {};
    if (str(e.domain)) extra["event.domain"] = e.domain;
    for (const [k, v] of Object.entries(e.attributes ?? {})) {
      if (typeof v === "string" || typeof v === "boolean" || (typeof v === "number" && Number.isFinite(v))) {
        extra[`event.${k}`] = v;
      }
    }
    push(e, "event", { type: "event", name }, extra);
  }
  if (payload.traces !== undefined && payload.traces !== null) {
    const spans = decodeOtlpTree("traces", withServiceName(payload.traces, service), now);
    events.push(...spans.events);
    accepted += spans.accepted;
    log.merge(spans);
  }
  return { events, accepted, rejected: log.rejected, reasons: log.reasons };
}

function countSpans(traces: Json): number {
  let n = 0;
  for (const rs of Array.isArray(traces?.resourceSpans) ? traces.resourceSpans : []) {
    for (const ss of Array.isArray(rs?.scopeSpans) ? rs.scopeSpans : [])
      n += Array.isArray(ss?.spans) ? ss.spans.length : 0;
  }
  return n;
}

/** Browser spans whose resource lacks `service.name` belong to the Faro app. */
function withServiceName(traces: Json, service: string): Json {
  if (traces === null || typeof traces !== "object" || !Array.isArray(traces.resourceSpans)) return traces;
  return {
    ...traces,
    resourceSpans: traces.resourceSpans.map((rs: Json) => {
      const attrs: Json[] = Array.isArray(rs?.resource?.attributes) ? rs.resource.attributes : [];
      if (attrs.some((kv) => kv?.key === "service.name")) return rs;
      return {
        ...rs,
        resource: {
          ...rs?.resource,
          attributes: [...attrs, { key: "service.name", value: { stringValue: service } }],
        },
      };
    }),
  };
}

export function registerFaro(app: FastifyInstance, ctx: ReceiverContext): void {
  app.post(
    "/ingest/rum",
    { config: { receiver: FARO } },
    async (req: FastifyRequest, reply: FastifyReply) => {
      // Faro posts application/json; sendBeacon-style transports may label the blob text/plain.
      const type = mediaType(req.headers["content-type"]);
      if (type !== "application/json" && type !== "text/plain") {
        throw new IngestHttpError(
          415,
          `unsupported Content-Type ${JSON.stringify(req.headers["content-type"] ?? "")}; Faro sends application/json`,
        );
      }
      const raw = await decodeContentEncoding(
        req.body as Buffer,
        req.headers["content-encoding"] as string | undefined,
        ctx.maxBodyBytes,
      );
      const result = ctx.decode(() => decodeFaro(raw));
      if (result.accepted === 0 && result.rejected > 0) {
        ctx.metrics.records(FARO, "rum", "rejected", result.rejected);
        throw new IngestHttpError(400, describeRejects(result));
      }
      await ctx.ingestor.hand(FARO, "rum", result, () => httpContentId(req));
      reply.code(202).type("text/plain").send("ok");
    },
  );
}
