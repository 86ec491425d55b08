import * as grpc from "@grpc/grpc-js";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import type { TelemetryEvent } from "../../../src/core/telemetry.js";
import { TOPICS } from "../../../src/pipeline/bus/bus.js";
import { MemoryBus } from "../../../src/pipeline/bus/memory.js";
import { Ingestor } from "../../../src/pipeline/receivers/backpressure.js";
import { type IngestMetrics, ingestMetrics, noMetrics } from "../../../src/pipeline/receivers/metrics.js";
import { type OtlpGrpcServer, startOtlpGrpc } from "../../../src/pipeline/receivers/otlp-grpc.js";
import { otlpTypes } from "../../../src/pipeline/receivers/otlp-proto.js";

/** OTLP/gRPC status codes: INVALID_ARGUMENT for bad data, UNAVAILABLE (retried by clients) when full. */

const open: { server: OtlpGrpcServer; bus: MemoryBus; client: grpc.Client }[] = [];

async function start(busCapacity = 100_000, metrics: IngestMetrics = noMetrics) {
  const bus = new MemoryBus({ capacity: busCapacity });
  const ingestor = new Ingestor(bus, { bufferEvents: 1000, bufferBytes: 1 << 20, metrics });
  const server = await startOtlpGrpc({
    ingestor,
    metrics,
    host: "127.0.0.1",
    port: 0,
    maxBodyBytes: 1 << 20,
  });
  const client = new grpc.Client(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure());
  open.push({ server, bus, client });
  return { bus, client };
}

afterEach(async () => {
  for (const o of open.splice(0)) {
    o.client.close();
    await o.server.close();
    await o.bus.close();
  }
});

function exportTraces(
  client: grpc.Client,
  body: Buffer,
): Promise<{ code: grpc.status; details: string; response?: Buffer }> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      otlpTypes().traces.grpcPath,
      (b: Buffer) => b,
      (b: Buffer) => b,
      body,
      (err, response) =>
        resolve(
          err ? { code: err.code, details: err.details } : { code: grpc.status.OK, details: "", response },
        ),
    );
  });
}

function traces(spanCount: number, kind = 2): Buffer {
  const type = otlpTypes().traces.request;
  const spans = Array.from({ length: spanCount }, (_, i) => ({
    traceId: Buffer.alloc(16, 7),
    spanId: Buffer.from([0, 0, 0, 0, 0, 0, 0, i + 1]),
    name: `span ${i}`,
    kind,
    startTimeUnixNano: "1730000000000000000",
    endTimeUnixNano: "1730000000100000000",
  }));
  return Buffer.from(
    type
      .encode(
        type.fromObject({
          resourceSpans: [
            {
              resource: { attributes: [{ key: "service.name", value: { stringValue: "g" } }] },
              scopeSpans: [{ spans }],
            },
          ],
        }),
      )
      .finish(),
  );
}

describe("OTLP/gRPC receiver", () => {
  it("accepts spans and answers an empty ExportTraceServiceResponse", async () => {
    const { bus, client } = await start();
    const got: TelemetryEvent[] = [];
    await bus.subscribe<TelemetryEvent>(TOPICS.rawTelemetry, "t", async (b) => {
      got.push(...b.messages.map((m) => m.value));
    });
    const res = await exportTraces(client, traces(3));
    expect(res.code).toBe(grpc.status.OK);
    expect(
      (otlpTypes().traces.response.decode(res.response!) as { partialSuccess?: unknown }).partialSuccess,
    ).toBeNull();
    await bus.flush();
    expect(got.map((e) => (e.kind === "span" ? e.span.name : ""))).toEqual(["span 0", "span 1", "span 2"]);
  });

  it("answers INVALID_ARGUMENT with a reason for a truncated message and for unknown enums", async () => {
    const { client } = await start();
    const truncated = await exportTraces(client, traces(2).subarray(0, 30));
    expect(truncated.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(truncated.details).toMatch(/invalid OTLP protobuf/);
    const badKind = await exportTraces(client, traces(1, 42));
    expect(badKind.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(badKind.details).toMatch(/unknown span kind 42/);
  });

  it("answers UNAVAILABLE when the bus is saturated", async () => {
    const { client } = await start(1);
    expect((await exportTraces(client, traces(2))).code).toBe(grpc.status.OK);
    const refused = await exportTraces(client, traces(2));
    expect(refused.code).toBe(grpc.status.UNAVAILABLE);
  });

  it("counts every answer by status and times only the acknowledgements", async () => {
    const registry = new Registry();
    const { client } = await start(1, ingestMetrics(registry));
    expect((await exportTraces(client, traces(2))).code).toBe(grpc.status.OK);
    expect((await exportTraces(client, traces(2))).code).toBe(grpc.status.UNAVAILABLE);
    const text = await registry.metrics();
    expect(text).toContain('slo_scout_ingest_requests_total{receiver="otlp-grpc",code="OK"} 1');
    expect(text).toContain('slo_scout_ingest_requests_total{receiver="otlp-grpc",code="UNAVAILABLE"} 1');
    expect(text).toContain('slo_scout_ingest_ack_duration_seconds_count{receiver="otlp-grpc"} 1');
  });

  it("never answers INTERNAL to mutated messages", async () => {
    const { client } = await start();
    const seed = traces(2);
    let x = 12345;
    const rand = () => {
      x = (x * 1103515245 + 12345) & 0x7fffffff;
      return x / 0x7fffffff;
    };
    const codes = new Set<grpc.status>();
    for (let i = 0; i < 300; i++) {
      const body = Buffer.from(seed);
      for (let k = 0; k < 1 + Math.floor(rand() * 6); k++)
        body[Math.floor(rand() * body.length)] = Math.floor(rand() * 256);
      const res = await exportTraces(
        client,
        rand() < 0.3 ? body.subarray(0, Math.floor(rand() * body.length)) : body,
      );
      codes.add(res.code);
    }
    expect(codes.has(grpc.status.INTERNAL)).toBe(false);
    expect(codes.has(grpc.status.UNKNOWN)).toBe(false);
    expect(codes.has(grpc.status.INVALID_ARGUMENT)).toBe(true);
  });
});
