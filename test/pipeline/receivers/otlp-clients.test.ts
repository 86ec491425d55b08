import { SeverityNumber } from "@opentelemetry/api-logs";
import { OTLPLogExporter as LogsGrpc } from "@opentelemetry/exporter-logs-otlp-grpc";
import { OTLPLogExporter as LogsJson } from "@opentelemetry/exporter-logs-otlp-http";
import { OTLPLogExporter as LogsProto } from "@opentelemetry/exporter-logs-otlp-proto";
import { OTLPMetricExporter as MetricsGrpc } from "@opentelemetry/exporter-metrics-otlp-grpc";
import { OTLPMetricExporter as MetricsJson } from "@opentelemetry/exporter-metrics-otlp-http";
import { OTLPMetricExporter as MetricsProto } from "@opentelemetry/exporter-metrics-otlp-proto";
import { OTLPTraceExporter as TraceGrpc } from "@opentelemetry/exporter-trace-otlp-grpc";
import { OTLPTraceExporter as TraceJson } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as TraceProto } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  InMemoryLogRecordExporter,
  LoggerProvider,
  type ReadableLogRecord,
  SimpleLogRecordProcessor,
} from "@opentelemetry/sdk-logs";
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type ResourceMetrics,
} from "@opentelemetry/sdk-metrics";
import {
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TelemetryEvent } from "../../../src/core/telemetry.js";
import { Ingestor } from "../../../src/pipeline/receivers/backpressure.js";
import { ingestMetrics } from "../../../src/pipeline/receivers/metrics.js";
import { type OtlpGrpcServer, startOtlpGrpc } from "../../../src/pipeline/receivers/otlp-grpc.js";
import { counter, type Harness, startHarness } from "./harness.js";

/**
 * The OpenTelemetry JS SDK's own exporters (http/protobuf, http/json, gRPC) send to a running receiver;
 * every record must arrive on the bus with its service, ids and attributes intact.
 */

const resource = resourceFromAttributes({ "service.name": "checkout", "deployment.environment": "test" });

async function makeSpans(): Promise<ReadableSpan[]> {
  const memory = new InMemorySpanExporter();
  const provider = new TracerProvider({
    resource,
    spanProcessors: [new SimpleSpanProcessor({ exporter: memory })],
  });
  const tracer = provider.getTracer("test-scope");
  const root = tracer.startSpan("POST /api/orders", {
    kind: 1, // SERVER
    attributes: {
      "http.request.method": "POST",
      "http.route": "/api/orders",
      "http.response.status_code": 201,
    },
  });
  const { trace, context } = await import("@opentelemetry/api");
  const child = tracer.startSpan(
    "SELECT orders",
    { kind: 2, attributes: { "db.system": "postgresql", retries: 2, cached: false } },
    trace.setSpan(context.active(), root),
  );
  child.addEvent("row-lock", { rows: 3 });
  child.setStatus({ code: 2, message: "deadlock" });
  child.end();
  root.end();
  await provider.forceFlush();
  return memory.getFinishedSpans();
}

async function makeLogs(): Promise<ReadableLogRecord[]> {
  const memory = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({
    resource,
    processors: [new SimpleLogRecordProcessor({ exporter: memory })],
  });
  const logger = provider.getLogger("test-logger");
  logger.emit({
    body: "order 42 placed",
    severityNumber: SeverityNumber.INFO,
    severityText: "INFO",
    attributes: { "order.id": 42 },
  });
  logger.emit({ body: "payment declined", severityNumber: SeverityNumber.ERROR, severityText: "ERROR" });
  await provider.forceFlush();
  return memory.getFinishedLogRecords();
}

async function makeMetrics(): Promise<ResourceMetrics> {
  const memory = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter: memory, exportIntervalMillis: 3_600_000 });
  const provider = new MeterProvider({ resource, readers: [reader] });
  const meter = provider.getMeter("test-meter");
  meter.createCounter("http.server.requests", { unit: "{request}" }).add(5, { "http.route": "/api/orders" });
  meter
    .createHistogram("http.server.request.duration", {
      unit: "s",
      advice: { explicitBucketBoundaries: [0.1, 0.5, 1] },
    })
    .record(0.2, { "http.route": "/api/orders" });
  meter.createGauge("queue.depth").record(7);
  await reader.forceFlush();
  const rm = memory.getMetrics()[0];
  if (!rm) throw new Error("the SDK collected no metrics");
  await provider.shutdown();
  return rm;
}

function exportWith<T>(
  exporter: {
    export(items: T, cb: (r: { code: number; error?: Error }) => void): void;
    shutdown(): Promise<void>;
  },
  items: T,
) {
  return new Promise<{ code: number; error?: Error }>((resolve) => exporter.export(items, resolve)).finally(
    () => exporter.shutdown(),
  );
}

let h: Harness;
let grpc: OtlpGrpcServer;
let spans: ReadableSpan[];
let logs: ReadableLogRecord[];
let metrics: ResourceMetrics;

beforeAll(async () => {
  h = await startHarness();
  grpc = await startOtlpGrpc({
    ingestor: new Ingestor(h.bus, {
      bufferEvents: 10_000,
      bufferBytes: 1 << 24,
      metrics: ingestMetrics(h.registry),
    }),
    metrics: ingestMetrics(h.registry),
    host: "127.0.0.1",
    port: 0,
    maxBodyBytes: 1 << 24,
  });
  spans = await makeSpans();
  logs = await makeLogs();
  metrics = await makeMetrics();
});

afterAll(async () => {
  await grpc?.close();
  await h?.close();
});

function expectSpansArrived(received: TelemetryEvent[]) {
  const got = received.filter((e) => e.kind === "span");
  expect(got).toHaveLength(spans.length);
  for (const sent of spans) {
    const ev = got.find((e) => e.kind === "span" && e.span.spanId === sent.spanContext().spanId);
    expect(ev, `span ${sent.name}`).toBeDefined();
    if (ev?.kind !== "span") continue;
    expect(TelemetryEvent.parse(ev)).toEqual(ev);
    expect(ev.service).toBe("checkout");
    expect(ev.attributes["deployment.environment"]).toBe("test");
    expect(ev.span.traceId).toBe(sent.spanContext().traceId);
    expect(ev.span.parentSpanId).toBe(sent.parentSpanContext?.spanId);
    expect(ev.span.name).toBe(sent.name);
    expect(ev.span.attributes).toEqual(sent.attributes);
  }
  const child = got.find((e) => e.kind === "span" && e.span.name === "SELECT orders");
  if (child?.kind !== "span") throw new Error("child span missing");
  expect(child.span.kind).toBe("client");
  expect(child.span.status).toBe("error");
  expect(child.span.statusMessage).toBe("deadlock");
  expect(child.span.events[0]).toMatchObject({ name: "row-lock", attributes: { rows: 3 } });
  const root = got.find((e) => e.kind === "span" && e.span.name === "POST /api/orders");
  if (root?.kind !== "span") throw new Error("root span missing");
  expect(root.span.kind).toBe("server");
  expect(root.span.parentSpanId).toBeUndefined();
  expect(root.span.endTime).toBeGreaterThanOrEqual(root.span.startTime);
}

function expectLogsArrived(received: TelemetryEvent[]) {
  const got = received.filter((e) => e.kind === "log");
  expect(got).toHaveLength(2);
  for (const ev of got) expect(TelemetryEvent.parse(ev)).toEqual(ev);
  const placed = got.find((e) => e.kind === "log" && e.log.body === "order 42 placed");
  const declined = got.find((e) => e.kind === "log" && e.log.body === "payment declined");
  expect(placed).toMatchObject({
    service: "checkout",
    log: { severity: "info", attributes: { "order.id": 42 } },
  });
  expect(declined).toMatchObject({ service: "checkout", log: { severity: "error", severityText: "ERROR" } });
}

function expectMetricsArrived(received: TelemetryEvent[]) {
  const got = received.filter((e) => e.kind === "metric");
  for (const ev of got) expect(TelemetryEvent.parse(ev)).toEqual(ev);
  const byName = (name: string) => got.filter((e) => e.kind === "metric" && e.metric.name === name);
  const requests = byName("http_server_requests_total");
  expect(requests).toHaveLength(1);
  expect(requests[0]).toMatchObject({
    service: "checkout",
    metric: { type: "counter", labels: { http_route: "/api/orders" }, samples: [{ value: 5 }] },
  });
  const buckets = byName("http_server_request_duration_seconds_bucket");
  expect(
    buckets.map((e) => (e.kind === "metric" ? [e.metric.labels.le, e.metric.samples[0]!.value] : [])),
  ).toEqual([
    ["0.1", 0],
    ["0.5", 1],
    ["1", 1],
    ["+Inf", 1],
  ]);
  expect(byName("http_server_request_duration_seconds_count")[0]).toMatchObject({
    metric: { samples: [{ value: 1 }] },
  });
  expect(byName("http_server_request_duration_seconds_sum")[0]).toMatchObject({
    metric: { samples: [{ value: 0.2 }] },
  });
  expect(byName("queue_depth")[0]).toMatchObject({ metric: { type: "gauge", samples: [{ value: 7 }] } });
}

describe.each([
  ["http/protobuf", "otlp-http", (url: string, s: string) => ({ url: `${url}/v1/${s}` })],
  ["http/json", "otlp-http", (url: string, s: string) => ({ url: `${url}/v1/${s}` })],
  ["grpc", "otlp-grpc", () => ({ url: `http://127.0.0.1:${grpc.port}` })],
] as const)("OpenTelemetry JS exporters over %s", (protocol, receiver, opts) => {
  const clients = {
    "http/protobuf": { trace: TraceProto, logs: LogsProto, metrics: MetricsProto },
    "http/json": { trace: TraceJson, logs: LogsJson, metrics: MetricsJson },
    grpc: { trace: TraceGrpc, logs: LogsGrpc, metrics: MetricsGrpc },
  }[protocol];

  it("delivers spans with service, ids and attributes intact", async () => {
    h.received.length = 0;
    const result = await exportWith(new clients.trace(opts(h.url, "traces")), spans);
    expect(result.error).toBeUndefined();
    expect(result.code).toBe(0);
    await h.settle();
    expectSpansArrived(h.received);
  });

  it("delivers log records", async () => {
    h.received.length = 0;
    const result = await exportWith(new clients.logs(opts(h.url, "logs")), logs);
    expect(result.error).toBeUndefined();
    await h.settle();
    expectLogsArrived(h.received);
  });

  it("delivers metrics as Prometheus-named series", async () => {
    h.received.length = 0;
    const result = await exportWith(new clients.metrics(opts(h.url, "metrics")), metrics);
    expect(result.error).toBeUndefined();
    await h.settle();
    expectMetricsArrived(h.received);
  });

  it("counts what arrived on the ingest counters", async () => {
    expect(
      await counter(h.registry, "slo_scout_ingest_records_total", {
        receiver,
        signal: "traces",
        outcome: "accepted",
      }),
    ).toBeGreaterThanOrEqual(spans.length);
    expect(
      await counter(h.registry, "slo_scout_ingest_requests_total", {
        receiver,
        code: receiver === "otlp-grpc" ? "OK" : "200",
      }),
    ).toBeGreaterThanOrEqual(3);
  });
});

it("accepts gzip-compressed OTLP from the exporter", async () => {
  h.received.length = 0;
  const result = await exportWith(
    new TraceProto({ url: `${h.url}/v1/traces`, compression: "gzip" as never }),
    spans,
  );
  expect(result.error).toBeUndefined();
  await h.settle();
  expectSpansArrived(h.received);
});
