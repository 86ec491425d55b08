import { readFileSync } from "node:fs";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemoryBus } from "../../../src/pipeline/bus/memory.js";
import { Ingestor } from "../../../src/pipeline/receivers/backpressure.js";
import { noMetrics } from "../../../src/pipeline/receivers/metrics.js";
import { startOtlpGrpc } from "../../../src/pipeline/receivers/otlp-grpc.js";
import { otlpTypes } from "../../../src/pipeline/receivers/otlp-proto.js";
import { bodyOf, type Harness, startHarness } from "./harness.js";

/** INGEST_TOKEN: with it set, a receiver takes telemetry only from a client sending it as a bearer token. */

const TOKEN = "ingest-token-0123456789abcdef";
const fixture = (name: string) => readFileSync(new URL(`../../fixtures/receivers/${name}`, import.meta.url));

describe("INGEST_TOKEN on the HTTP receivers", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ INGEST_TOKEN: TOKEN, CORS_ORIGINS: "https://shop.example" });
  });
  afterAll(() => h.close());
  const send = (headers: Record<string, string>) =>
    fetch(`${h.url}/ingest/fluentbit`, {
      method: "POST",
      body: bodyOf(fixture("fluentbit-json.json")),
      headers: { "content-type": "application/json", ...headers },
    });

  it("401 in the uniform error body without it or with another token; nothing reaches the bus", async () => {
    const attempts: Record<string, string>[] = [
      {},
      { authorization: "Bearer wrong-token-0123456789abc" },
      { authorization: TOKEN },
    ];
    for (const headers of attempts) {
      const res = await send(headers);
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({
        error: { code: "unauthorized", message: expect.stringMatching(/ingest token/) },
      });
    }
    await h.settle();
    expect(h.received).toHaveLength(0);
  });

  it("takes the telemetry with it", async () => {
    const res = await send({ authorization: `Bearer ${TOKEN}` });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ accepted: 3, rejected: 0 });
  });

  it("lets a browser's CORS preflight through and allows the Authorization header", async () => {
    const res = await fetch(`${h.url}/v1/traces`, {
      method: "OPTIONS",
      headers: {
        origin: "https://shop.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization,content-type",
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-headers")).toMatch(/authorization/);
  });
});

describe("INGEST_TOKEN on OTLP/gRPC", () => {
  it("UNAUTHENTICATED without the token in the call's metadata, OK with it", async () => {
    const bus = new MemoryBus();
    const ingestor = new Ingestor(bus, { bufferEvents: 1000, bufferBytes: 1 << 20, metrics: noMetrics });
    const server = await startOtlpGrpc({
      ingestor,
      metrics: noMetrics,
      host: "127.0.0.1",
      port: 0,
      maxBodyBytes: 1 << 20,
      ingestToken: TOKEN,
    });
    const client = new grpc.Client(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure());
    const body = Buffer.from(otlpTypes().traces.request.encode({ resourceSpans: [] }).finish());
    const call = (metadata: grpc.Metadata) =>
      new Promise<grpc.status>((resolve) => {
        client.makeUnaryRequest(
          otlpTypes().traces.grpcPath,
          (b: Buffer) => b,
          (b: Buffer) => b,
          body,
          metadata,
          (err) => resolve(err ? err.code : grpc.status.OK),
        );
      });
    try {
      expect(await call(new grpc.Metadata())).toBe(grpc.status.UNAUTHENTICATED);
      const withToken = new grpc.Metadata();
      withToken.set("authorization", `Bearer ${TOKEN}`);
      expect(await call(withToken)).toBe(grpc.status.OK);
    } finally {
      client.close();
      await server.close();
      await bus.close();
    }
  });
});
