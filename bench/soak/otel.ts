import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { SeverityNumber } from "@opentelemetry/api-logs";
import { OTLPLogExporter } from "@opentelemetry/exporter-logs-otlp-proto";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchLogRecordProcessor, LoggerProvider, type ReadableLogRecord } from "@opentelemetry/sdk-logs";
import { BatchSpanProcessor, type ReadableSpan, TracerProvider } from "@opentelemetry/sdk-trace";
import { logLine } from "./messages.js";
import type { Done, GeneratorArgs, Tally } from "./tally.js";
import { Pacer, sleep } from "./tally.js";

/**
 * The OpenTelemetry SDK's own path, as an instrumented service runs it: records emitted through a
 * LoggerProvider / TracerProvider, batched by the SDK's batch processors and sent by the OTLP/HTTP
 * protobuf exporters (with their retries on 503 and on refused connections). Each exporter is wrapped to
 * see what the SDK sees: how long an export took and whether it succeeded.
 */

export const OTLP_LOG_SERVICE = "soak-api";
export const SPAN_SERVICES = { frontend: "soak-frontend", checkout: "soak-checkout" } as const;

interface ExportResultLike {
  code: number;
}
interface ExporterLike<T> {
  export(items: T[], done: (result: ExportResultLike) => void): void;
  shutdown(): Promise<void>;
  forceFlush(): Promise<void>;
}

/**
 * The exporters' deadline for an export with its retries (10 s by default). Longer here: an export that
 * times out on a busy server may still have been stored, and its retry stored again, so a short deadline
 * would blur acknowledged against stored.
 */
const EXPORT_TIMEOUT_MS = 60_000;

/** ExportResultCode.SUCCESS of @opentelemetry/core. */
const SUCCESS = 0;

function timed<T>(inner: ExporterLike<T>, tally: Tally, settled?: (items: T[], ok: boolean) => void) {
  return {
    export(items: T[], done: (result: ExportResultLike) => void) {
      const t0 = performance.now();
      inner.export(items, (result) => {
        const ok = result.code === SUCCESS;
        if (ok) tally.ack(items.length, performance.now() - t0);
        else {
          tally.failed += items.length;
          tally.refuse("export failed");
        }
        settled?.(items, ok);
        done(result);
      });
    },
    shutdown: () => inner.shutdown(),
    forceFlush: () => inner.forceFlush(),
  };
}

/**
 * Shuts the providers down, flushing what their processors hold. A last export the server still refuses
 * (503 past the exporter's retries) rejects the shutdown, as it would in a service; its records are already
 * counted as failed, so it is a note, not the generator's end.
 */
async function shutdownAll(providers: { shutdown(): Promise<void> }[]): Promise<string[]> {
  const failed = (await Promise.allSettled(providers.map((p) => p.shutdown()))).filter(
    (r) => r.status === "rejected",
  );
  return failed.length === 0
    ? []
    : [
        `${failed.length} of ${providers.length} providers' last flush failed: ${(failed[0] as PromiseRejectedResult).reason}`,
      ];
}

const BATCH = {
  maxExportBatchSize: 1000,
  maxQueueSize: 16_000,
  scheduledDelayMillis: 200,
  exportTimeoutMillis: 2 * EXPORT_TIMEOUT_MS,
};

const SEVERITY = {
  DEBUG: SeverityNumber.DEBUG,
  INFO: SeverityNumber.INFO,
  WARN: SeverityNumber.WARN,
  ERROR: SeverityNumber.ERROR,
} as const;

export async function otlpLogs(args: GeneratorArgs, tally: Tally, stopping: () => boolean): Promise<Done> {
  const providers = Array.from(
    { length: args.concurrency },
    (_, i) =>
      new LoggerProvider({
        resource: resourceFromAttributes({
          "service.name": OTLP_LOG_SERVICE,
          "service.instance.id": `api-${args.index}-${i}`,
        }),
        processors: [
          new BatchLogRecordProcessor({
            exporter: timed<ReadableLogRecord>(
              new OTLPLogExporter({ url: `${args.url}/v1/logs`, timeoutMillis: EXPORT_TIMEOUT_MS }),
              tally,
            ),
            ...BATCH,
          }),
        ],
      }),
  );
  const loggers = providers.map((p) => p.getLogger("soak"));
  const pacer = new Pacer(args.rate);
  let n = args.index * 1_000_000_000;
  while (!stopping()) {
    const owed = pacer.owed();
    for (let i = 0; i < owed; i++) {
      const line = logLine(n++);
      loggers[i % loggers.length]!.emit({
        severityNumber: SEVERITY[line.severity],
        severityText: line.severity,
        body: line.text,
        attributes: { "code.function": "handle" },
        timestamp: Date.now(),
      });
    }
    pacer.take(owed);
    tally.offered += owed;
    await sleep(10);
  }
  const flush = await shutdownAll(providers);
  const acked = tally.ackedTotal;
  return {
    type: "done",
    receiver: args.receiver,
    offered: tally.offered,
    expected: { [`logLines:${OTLP_LOG_SERVICE}`]: acked },
    notes: flush,
  };
}

/** A trace's four spans, as bits: the frontend's server span, its client call, checkout's server span, its DB call. */
const BIT: Record<string, number> = {
  "GET /checkout": 1,
  "POST checkout": 2,
  "POST /api/orders": 4,
  "SELECT orders": 8,
};
const ALL = 15;
/** The share of traces whose checkout span fails (a span error is fingerprinted into a capsule). */
const ERROR_EVERY = 100;

export async function otlpSpans(args: GeneratorArgs, tally: Tally, stopping: () => boolean): Promise<Done> {
  /** Per trace: which spans were settled, and which acknowledged; a trace leaves once all four settled. */
  const open = new Map<string, { settled: number; acked: number }>();
  const traces = { withServerSpan: 0, complete: 0, partial: 0, withEdge: 0 };
  let errorSpansAcked = 0;
  const classify = (acked: number) => {
    if (acked & 5) traces.withServerSpan++;
    if (acked === ALL) traces.complete++;
    else if (acked !== 0) traces.partial++;
    if ((acked & 7) === 7) traces.withEdge++;
  };
  const settled = (spans: ReadableSpan[], ok: boolean) => {
    for (const s of spans) {
      const id = s.spanContext().traceId;
      const bit = BIT[s.name] ?? 0;
      const t = open.get(id) ?? { settled: 0, acked: 0 };
      t.settled |= bit;
      if (ok) {
        t.acked |= bit;
        if (s.status.code === SpanStatusCode.ERROR) errorSpansAcked++;
      }
      if (t.settled === ALL) {
        open.delete(id);
        classify(t.acked);
      } else open.set(id, t);
    }
  };
  const provider = (service: string, i: number) =>
    new TracerProvider({
      resource: resourceFromAttributes({ "service.name": service, "service.instance.id": `${service}-${i}` }),
      spanProcessors: [
        new BatchSpanProcessor({
          exporter: timed<ReadableSpan>(
            new OTLPTraceExporter({ url: `${args.url}/v1/traces`, timeoutMillis: EXPORT_TIMEOUT_MS }),
            tally,
            settled,
          ),
          ...BATCH,
        }),
      ],
    });
  const pods = Array.from({ length: args.concurrency }, (_, i) => ({
    frontend: provider(SPAN_SERVICES.frontend, i),
    checkout: provider(SPAN_SERVICES.checkout, i),
  }));
  const tracers = pods.map((p) => ({
    frontend: p.frontend.getTracer("soak"),
    checkout: p.checkout.getTracer("soak"),
  }));
  const pacer = new Pacer(args.rate / 4);
  let n = 0;
  while (!stopping()) {
    const owed = pacer.owed();
    for (let i = 0; i < owed; i++) {
      const { frontend, checkout } = tracers[n % tracers.length]!;
      const failed = n % ERROR_EVERY === 0;
      const t0 = Date.now() - 60;
      const root = frontend.startSpan(
        "GET /checkout",
        {
          kind: SpanKind.SERVER,
          startTime: t0,
          attributes: {
            "http.request.method": "GET",
            "http.route": "/checkout",
            "http.response.status_code": failed ? 502 : 200,
          },
        },
        ROOT_CONTEXT,
      );
      const call = frontend.startSpan(
        "POST checkout",
        {
          kind: SpanKind.CLIENT,
          startTime: t0 + 2,
          attributes: { "http.request.method": "POST", "server.address": "checkout" },
        },
        trace.setSpan(context.active(), root),
      );
      const server = checkout.startSpan(
        "POST /api/orders",
        {
          kind: SpanKind.SERVER,
          startTime: t0 + 4,
          attributes: {
            "http.request.method": "POST",
            "http.route": "/api/orders",
            "http.response.status_code": failed ? 500 : 201,
          },
        },
        trace.setSpan(ROOT_CONTEXT, call),
      );
      const db = checkout.startSpan(
        "SELECT orders",
        { kind: SpanKind.INTERNAL, startTime: t0 + 6, attributes: { "db.system": "postgresql" } },
        trace.setSpan(ROOT_CONTEXT, server),
      );
      db.end(t0 + 6 + (n % 20));
      if (failed)
        server.setStatus({ code: SpanStatusCode.ERROR, message: `payment declined code=${n % 90}` });
      server.end(t0 + 50);
      call.end(t0 + 52);
      root.end(t0 + 55 + (n % 7));
      n++;
    }
    pacer.take(owed);
    tally.offered += owed * 4;
    await sleep(10);
  }
  const flush = await shutdownAll(pods.flatMap((p) => [p.frontend, p.checkout]));
  for (const t of open.values()) classify(t.acked);
  return {
    type: "done",
    receiver: args.receiver,
    offered: tally.offered,
    expected: {
      traces: traces.withServerSpan,
      [`logLines:${SPAN_SERVICES.checkout}`]: errorSpansAcked,
    },
    notes: [
      `${traces.complete} traces acknowledged whole, ${traces.partial} in part, ${open.size} with spans the SDK never exported; ${traces.withEdge} with the frontend → checkout call`,
      ...flush,
    ],
  };
}
