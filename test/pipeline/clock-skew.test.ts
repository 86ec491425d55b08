import Fastify from "fastify";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { MemoryBus } from "../../src/pipeline/bus/memory.js";
import { refuseFuture } from "../../src/pipeline/receivers/backpressure.js";
import type { DecodeResult } from "../../src/pipeline/receivers/decode-result.js";
import { receiversPlugin } from "../../src/pipeline/receivers/plugin.js";
import { redact } from "../../src/pipeline/redact.js";
import { startPipeline } from "../../src/pipeline/run.js";
import { openFileBlobs } from "../../src/store/blobs/file.js";
import { migrate } from "../../src/store/migrate.js";
import { openSql } from "../../src/store/open.js";
import { listRouteStats } from "../../src/store/repos/aggregates.js";
import { otlpTraceRequest, postTraces } from "../helpers/otlp-traces.js";
import { counter, testConfig } from "./receivers/harness.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The receivers and the stream stage on one in-process bus and an in-memory PGlite. */
async function ingestServer() {
  const sql = await openSql({ DATABASE_URL: "pglite://memory" });
  await migrate(sql);
  const bus = new MemoryBus({ partitions: 1 });
  const pipeline = await startPipeline({
    bus,
    sql,
    blobs: openFileBlobs("file:///tmp/slo-scout-clock-skew-blobs"),
    redact,
    allowedLatenessMs: 10 * 60_000,
  });
  const registry = new Registry();
  const app = Fastify({ logger: false });
  await app.register(receiversPlugin, { bus, config: testConfig(), registry });
  const url = await app.listen({ host: "127.0.0.1", port: 0 });
  cleanups.push(async () => {
    await app.close();
    await pipeline.stop();
    await bus.close();
    await sql.close();
  });
  return { url, sql, pipeline, registry };
}

describe("a sender with a skewed clock", () => {
  it("one span a day ahead, then 200 current spans: the 200 are counted, the future one refused with its reason", async () => {
    const s = await ingestServer();
    const now = Date.now();
    const ahead = await postTraces(s.url, otlpTraceRequest("orders", [now + 86_400_000]));
    expect(ahead.status).toBe(200);
    const partial = (ahead.body as { partialSuccess: { rejectedSpans: string; errorMessage: string } })
      .partialSuccess;
    expect(partial.rejectedSpans).toBe("1");
    expect(partial.errorMessage).toMatch(/1d ahead of the server's clock .*FUTURE_TOLERANCE 5m/);

    const times = Array.from({ length: 200 }, (_, i) => now - 120_000 + i * 100);
    for (let i = 0; i < times.length; i += 50) {
      const res = await postTraces(s.url, otlpTraceRequest("orders", times.slice(i, i + 50)));
      expect(res).toEqual({ status: 200, body: {} });
    }
    await s.pipeline.drain();
    const routes = await listRouteStats(s.sql, { service: "orders" });
    expect(routes.reduce((n, r) => n + r.requests, 0)).toBe(200);
    expect(Math.max(...routes.map((r) => r.windowStart))).toBeLessThanOrEqual(now);
    expect(await counter(s.registry, "slo_scout_ingest_records_total", { outcome: "future" })).toBe(1);
    expect(
      await counter(s.registry, "slo_scout_ingest_records_total", { signal: "traces", outcome: "accepted" }),
    ).toBe(200);
  });

  it("FUTURE_TOLERANCE sets how far ahead is still taken; metric samples are not judged", () => {
    const now = Date.UTC(2026, 11, 1);
    const span = (time: number) =>
      ({ kind: "span", service: "orders", time }) as unknown as DecodeResult["events"][number];
    const metric = {
      kind: "metric",
      service: "orders",
      time: now + 86_400_000,
    } as unknown as DecodeResult["events"][number];
    const result: DecodeResult = {
      events: [span(now + 3_600_000), span(now + 3 * 3_600_000), metric],
      accepted: 3,
      rejected: 0,
      reasons: [],
    };
    expect(refuseFuture(result, now, testConfig({ FUTURE_TOLERANCE: "2h" }).FUTURE_TOLERANCE)).toBe(1);
    expect(result.events.map((e) => e.time)).toEqual([now + 3_600_000, now + 86_400_000]);
    expect(result).toMatchObject({ accepted: 2, rejected: 1 });
    expect(result.reasons).toEqual([
      "1 record(s) dated up to 3h ahead of the server's clock (more than FUTURE_TOLERANCE 2h); check the sender's clock",
    ]);
  });
});
