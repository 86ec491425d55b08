import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import Fastify from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { analyzeService } from "../../src/analysis/analyze.js";
import { MemoryBus } from "../../src/pipeline/bus/memory.js";
import { publishEvents } from "../../src/pipeline/receivers/backpressure.js";
import { decodeOtlp } from "../../src/pipeline/receivers/otlp-decode.js";
import { receiversPlugin } from "../../src/pipeline/receivers/plugin.js";
import { redact } from "../../src/pipeline/redact.js";
import { SeededRandom } from "../../src/pipeline/reservoir.js";
import { type Pipeline, startPipeline } from "../../src/pipeline/run.js";
import { openFileBlobs } from "../../src/store/blobs/file.js";
import { migrate } from "../../src/store/migrate.js";
import { openSql } from "../../src/store/open.js";
import type { Sql } from "../../src/store/ports.js";
import { listRouteStats } from "../../src/store/repos/aggregates.js";
import { listLateEvents } from "../../src/store/repos/late-events.js";
import { otlpTraceRequest } from "../helpers/otlp-traces.js";
import { testConfig } from "./receivers/harness.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const blobs = openFileBlobs("file:///tmp/slo-scout-late-data-blobs");
let sql: Sql;
const stops: (() => Promise<void>)[] = [];

beforeAll(async () => {
  sql = await openSql({ DATABASE_URL: "pglite://memory" });
  await migrate(sql);
}, 120_000);
afterAll(async () => {
  for (const s of stops.reverse()) await s();
  await sql.close();
});

/** A stream stage on its own in-process bus and consumer group, sharing the test's database. */
async function stage(
  group: string,
  correctionHorizonMs: number,
): Promise<{ bus: MemoryBus; pipeline: Pipeline }> {
  const bus = new MemoryBus({ partitions: 1 });
  const pipeline = await startPipeline({
    bus,
    sql,
    blobs,
    redact,
    group,
    allowedLatenessMs: 10 * 60_000,
    correctionHorizonMs,
  });
  stops.push(async () => {
    await pipeline.stop();
    await bus.close();
  });
  return { bus, pipeline };
}

describe("late data", () => {
  it("a week of traces sent out of order by the OpenTelemetry SDK over OTLP/HTTP lands in its windows; analyze finds the journeys", async () => {
    const { bus, pipeline } = await stage("week", 8 * DAY);
    const app = Fastify({ logger: false });
    await app.register(receiversPlugin, { bus, config: testConfig() });
    const url = await app.listen({ host: "127.0.0.1", port: 0 });
    stops.push(() => app.close());

    const provider = new TracerProvider({
      resource: resourceFromAttributes({ "service.name": "shop" }),
      spanProcessors: [
        new BatchSpanProcessor({
          exporter: new OTLPTraceExporter({ url: `${url}/v1/traces` }),
          maxExportBatchSize: 100,
          maxQueueSize: 10_000,
        }),
      ],
    });
    const tracer = provider.getTracer("late-data-test");
    const now = Date.now();
    const routes = [
      { method: "POST", route: "/checkout" },
      { method: "GET", route: "/products" },
    ];
    // Every 2 hours for 7 days, per route; newest first, then the rest shuffled (a collector's backlog).
    const traces = routes.flatMap((r) =>
      Array.from({ length: 84 }, (_, i) => ({ ...r, start: now - 5 * 60_000 - i * 2 * HOUR })),
    );
    const random = new SeededRandom(7);
    const shuffled = [traces[0]!, ...traces.slice(1).sort(() => random.next() - 0.5)];
    for (const t of shuffled) {
      const span = tracer.startSpan(`${t.method} ${t.route}`, {
        kind: 1, // SERVER
        startTime: t.start,
        attributes: {
          "http.request.method": t.method,
          "http.route": t.route,
          "http.response.status_code": 200,
        },
      });
      span.end(t.start + 40);
    }
    await provider.forceFlush();
    await provider.shutdown();
    await pipeline.drain();

    const stats = await listRouteStats(sql, { service: "shop" });
    expect(stats.reduce((n, r) => n + r.requests, 0)).toBe(traces.length);
    expect(Math.min(...stats.map((r) => r.windowStart))).toBeLessThan(now - 6 * DAY);
    const analysis = await analyzeService("shop", { sql }, { window: "7d" });
    expect(analysis.journeys.map((j) => j.key).sort()).toEqual(["shop GET /products", "shop POST /checkout"]);
    expect(analysis.warnings.filter((w) => w.includes("CORRECTION_HORIZON"))).toEqual([]);
  }, 120_000);

  it("corrects a closed window within the horizon once, drops an older event and says so in analyze", async () => {
    const { bus, pipeline } = await stage("horizon", DAY);
    const now = Date.now();
    const send = async (times: number[]) =>
      publishEvents(bus, decodeOtlp("traces", Buffer.from(otlpTraceRequest("ledger", times)), "json").events);
    await send([now - 60_000]);
    await pipeline.drain();
    // 3 hours late: past ALLOWED_LATENESS (10m), within the horizon (24h); 3 days late: beyond it.
    await send([now - 3 * HOUR]);
    await send([now - 3 * DAY]);
    await pipeline.drain();

    const stats = await listRouteStats(sql, { service: "ledger" });
    expect(stats.map((r) => [r.windowStart, r.requests])).toEqual([
      [Math.floor((now - 3 * HOUR) / HOUR) * HOUR, 1],
      [Math.floor((now - 60_000) / HOUR) * HOUR, 1],
    ]);
    expect(await listLateEvents(sql, ["ledger"])).toMatchObject([
      { service: "ledger", dropped: 1, corrected: 1 },
    ]);
    const analysis = await analyzeService("ledger", { sql }, { window: "7d" });
    expect(analysis.warnings).toContainEqual(
      expect.stringMatching(
        /^1 event\(s\) of ledger arrived more than CORRECTION_HORIZON after their window closed and were dropped/,
      ),
    );
  }, 120_000);
});
