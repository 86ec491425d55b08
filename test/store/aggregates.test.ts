import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EdgeStats, ExampleTrace, RouteStats, WebVitalStats } from "../../src/core/aggregates.js";
import type { Sql } from "../../src/store/ports.js";
import {
  listEdgeStats,
  listExampleTraces,
  listRouteStats,
  listWebVitalStats,
  replaceExampleTraces,
  upsertEdgeStats,
  upsertRouteStats,
  upsertWebVitalStats,
} from "../../src/store/repos/aggregates.js";
import { availableEngines, OPEN_TIMEOUT_MS, type TestDb } from "./engines.js";

const HOUR = 3_600_000;
const W = Date.UTC(2026, 0, 5, 10);
const latency = (counts: number[]) => ({ boundsMs: [50, 100, 250], counts, sumMs: counts.length * 42.5 });
const JOURNEY = "api-gateway POST /api/checkout";

function route(over: Partial<RouteStats> = {}): RouteStats {
  return {
    journeyKey: JOURNEY,
    service: "api-gateway",
    method: "POST",
    route: "/api/checkout",
    operation: "POST /api/checkout",
    windowStart: W,
    requests: 100,
    errors: 3,
    clientErrors: 5,
    fromBrowser: 80,
    latency: latency([60, 30, 9, 1]),
    ...over,
  };
}

function trace(traceId: string, windowStart = W): ExampleTrace {
  return {
    journeyKey: JOURNEY,
    traceId,
    windowStart,
    spans: [
      {
        spanId: "a".repeat(16),
        service: "api-gateway",
        name: "POST /api/checkout",
        kind: "server",
        durationMs: 12.5,
        status: "ok",
        attributes: { "http.status_code": 200 },
      },
    ],
  };
}

for (const engine of await availableEngines()) {
  describe(`span and RUM aggregates on ${engine.name}`, () => {
    let db: TestDb;
    let sql: Sql;
    beforeAll(async () => {
      db = await engine.open();
      sql = db.sql;
    }, OPEN_TIMEOUT_MS);
    afterAll(() => db?.drop());

    it("route stats: a window written again is replaced, not added to", async () => {
      await upsertRouteStats(sql, [route(), route({ windowStart: W + HOUR, requests: 10, errors: 0 })]);
      await upsertRouteStats(sql, [route({ requests: 120, errors: 4 })]);
      const rows = await listRouteStats(sql, { service: "api-gateway" });
      expect(rows.map((r) => [r.windowStart, r.requests, r.errors])).toEqual([
        [W, 120, 4],
        [W + HOUR, 10, 0],
      ]);
      expect(rows[0]).toEqual(route({ requests: 120, errors: 4 }));
      expect(await listRouteStats(sql, { since: W + HOUR })).toHaveLength(1);
      expect(await listRouteStats(sql, { until: W + HOUR })).toHaveLength(1);
    });

    it("route stats without method or route come back without them", async () => {
      const {
        method: _m,
        route: _r,
        ...bare
      } = route({ journeyKey: "worker consume orders", service: "worker" });
      await upsertRouteStats(sql, [bare]);
      const [row] = await listRouteStats(sql, { journeyKey: "worker consume orders" });
      expect(row).toEqual(bare);
    });

    it("edge stats upsert per journey, edge, operation and window", async () => {
      const edge = (over: Partial<EdgeStats> = {}): EdgeStats => ({
        journeyKey: JOURNEY,
        from: "api-gateway",
        to: "checkout",
        operation: "POST /checkout",
        windowStart: W,
        calls: 100,
        errors: 2,
        latency: latency([90, 10, 0, 0]),
        ...over,
      });
      await upsertEdgeStats(sql, [edge(), edge({ to: "payment", operation: "charge", calls: 50 })]);
      await upsertEdgeStats(sql, [edge({ calls: 101 })]);
      const rows = await listEdgeStats(sql, { journeyKeys: [JOURNEY] });
      expect(rows.map((r) => `${r.to}:${r.calls}`)).toEqual(["checkout:101", "payment:50"]);
      expect(await listEdgeStats(sql, { service: "payment" })).toHaveLength(1);
      expect(await listEdgeStats(sql, { journeyKeys: ["other"] })).toEqual([]);
    });

    it("example traces of a window are the reservoir's current content", async () => {
      await replaceExampleTraces(sql, [
        trace("1".repeat(32)),
        trace("2".repeat(32)),
        trace("9".repeat(32), W + HOUR),
      ]);
      // The reservoir evicted trace 1 and took trace 3; the other window is untouched.
      await replaceExampleTraces(sql, [trace("2".repeat(32)), trace("3".repeat(32))]);
      const rows = await listExampleTraces(sql, { journeyKey: JOURNEY });
      expect(rows.map((t) => `${t.windowStart === W ? "w0" : "w1"}:${t.traceId[0]}`)).toEqual([
        "w1:9",
        "w0:2",
        "w0:3",
      ]);
      expect(rows[1]?.spans[0]?.attributes).toEqual({ "http.status_code": 200 });
    });

    it("web vitals upsert per service, page, metric and window", async () => {
      const vital = (count: number): WebVitalStats => ({
        service: "frontend",
        page: "/checkout",
        metric: "LCP",
        windowStart: W,
        count,
        histogram: { bounds: [2500, 4000], counts: [count - 1, 1, 0], sum: count * 1800.5 },
      });
      await upsertWebVitalStats(sql, [vital(10)]);
      await upsertWebVitalStats(sql, [vital(12)]);
      const rows = await listWebVitalStats(sql, { service: "frontend", metric: "LCP" });
      expect(rows).toEqual([vital(12)]);
      expect(await listWebVitalStats(sql, { metric: "CLS" })).toEqual([]);
    });
  });
}
