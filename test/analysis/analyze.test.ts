import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AnalysisResult,
  analyzeService,
  refusedForShortHistory,
  UnknownServiceError,
  UnknownSliError,
} from "../../src/analysis/analyze.js";
import { Proposal } from "../../src/core/proposal.js";
import { renderWindow } from "../../src/generators/recording-rules.js";
import { promqlErrors } from "../../src/generators/validate/promql.js";
import { migrate } from "../../src/store/migrate.js";
import type { Sql } from "../../src/store/ports.js";
import { listExampleTraces } from "../../src/store/repos/aggregates.js";
import { getCapsule } from "../../src/store/repos/capsules.js";
import { listSeries } from "../../src/store/repos/metric-samples.js";
import { openPglite } from "../../src/store/sql/pglite.js";
import { capsule, DAY, END, type FixtureTruth, HOUR, STEP, writeService } from "./analyze-fixture.js";

// One database for the file (PGlite takes seconds to start); every service lives in it side by side.
let sql: Sql;
const truth: Record<string, FixtureTruth> = {};
const INCIDENT = { start: END - 8 * DAY + 10 * HOUR, end: END - 8 * DAY + 13 * HOUR };

beforeAll(async () => {
  sql = await openPglite("pglite://memory");
  await migrate(sql);
  // 28 days, 30% 404s (not errors), 0.1% background 500s and a 3-hour incident at 30% 500s.
  truth.shop = await writeService(sql, {
    service: "shop",
    method: "POST",
    route: "/orders",
    days: 28,
    counts: (i, t) => {
      const n = 100 + (i % 7);
      const server = t > INCIDENT.start && t <= INCIDENT.end ? 30 : i % 10 === 0 ? 1 : 0;
      return { ok: n - 30 - server, client: 30, server };
    },
    latency: { les: [0.05, 0.1, 0.25, 0.5], shares: [0.5, 0.4, 0.07, 0.02, 0.01] },
    downstream: ["db"],
    failingTraceAt: INCIDENT.start + HOUR,
    capsules: (h) => [
      capsule("shop", "a", "order <*> created", h, { info: 50 }),
      ...(h >= INCIDENT.start && h < INCIDENT.end
        ? [capsule("shop", "b", "payment provider timed out after <*> ms", h, { error: 40 })]
        : []),
      ...(h % DAY === 0 ? [capsule("shop", "c", "retrying <*>", h, { warn: 3, error: 1 })] : []),
    ],
  });
  // A flat 100% service with little traffic.
  truth.flat = await writeService(sql, {
    service: "flat",
    route: "/health-report",
    days: 28,
    counts: () => ({ ok: 1, client: 0, server: 0 }),
  });
  // Five days of data only.
  truth.young = await writeService(sql, {
    service: "young",
    route: "/",
    days: 5,
    counts: () => ({ ok: 100, client: 0, server: 1 }),
  });
  // Logs only: no metrics, no traces.
  truth.notify = await writeService(sql, {
    service: "notify",
    days: 10,
    metrics: false,
    traces: false,
    counts: () => ({ ok: 0, client: 0, server: 0 }),
    capsules: (h) => [
      capsule("notify", "d", "sent <*> to <*>", h, { info: 99 }),
      capsule("notify", "e", "smtp refused <*>", h, { error: h % (6 * HOUR) === 0 ? 3 : 1 }),
    ],
  });
  // A browser-facing page whose INP is good for 87% of page loads and LCP for 99%.
  const vital = (metric: "INP" | "LCP", h: number, good: number, bad: number) => {
    const bounds =
      metric === "INP"
        ? [50, 100, 200, 300, 500, 1000, 2000]
        : [500, 1000, 1500, 2000, 2500, 3000, 4000, 6000, 10000];
    const counts = bounds.map(() => 0).concat(0);
    counts[bounds.indexOf(metric === "INP" ? 200 : 2500)] = good;
    counts[bounds.length - 1] = bad;
    return {
      service: "web",
      page: "/",
      metric,
      windowStart: h,
      count: good + bad,
      histogram: { bounds, counts, sum: 0 },
    };
  };
  truth.web = await writeService(sql, {
    service: "web",
    route: "/",
    days: 28,
    counts: () => ({ ok: 50, client: 0, server: 0 }),
    browser: (h) => {
      const i = h / HOUR;
      return [vital("INP", h, 87 + (i % 3) - 1, 13 - (i % 3) + 1), vital("LCP", h, 99, 1)];
    },
  });
  // Four log lines from minutes ago, nothing else.
  truth.fresh = await writeService(sql, {
    service: "fresh",
    days: 1 / 24,
    metrics: false,
    traces: false,
    counts: () => ({ ok: 0, client: 0, server: 0 }),
    capsules: (h) => [
      capsule("fresh", "f", "user <*> signed in", h, { info: 3 }),
      capsule("fresh", "g", "db timeout after <*> ms", h, { error: 1 }),
    ],
  });
  // Traces without http.route (raw paths folded into `GET other`) while the metrics carry the template.
  truth.inv = await writeService(sql, {
    service: "inv",
    route: "/items/{id}",
    journeyKey: "inv GET other",
    days: 28,
    counts: () => ({ ok: 20, client: 0, server: 0 }),
  });
}, 300_000);
afterAll(() => sql?.close());

const results = new Map<string, Promise<AnalysisResult>>();
const analyze = (service: string) => {
  let r = results.get(service);
  if (!r) {
    r = analyzeService(service, { sql }, { stepMs: STEP, end: END });
    results.set(service, r);
  }
  return r;
};

describe("analyzeService", () => {
  it("proposes availability and latency SLIs whose PromQL parses, selects stored series and measures the planted attainment", async () => {
    const r = await analyze("shop");
    expect(r.journeys.map((j) => j.key)).toEqual(["shop POST /orders"]);
    expect(r.journeys[0]!.downstream.map((e) => e.to)).toEqual(["db"]);
    const byKind = Object.fromEntries(r.proposals.map((p) => [p.sli.kind, p]));
    expect(Object.keys(byKind).sort()).toEqual(["availability", "latency"]);
    for (const p of r.proposals) {
      expect(Proposal.parse(p)).toBeTruthy();
      for (const q of Object.values(p.sli.promql))
        expect(promqlErrors(renderWindow(q!, 300_000))).toEqual([]);
      // Each metric evidence selector names stored series.
      for (const e of p.evidence.filter((x) => x.kind === "metric")) {
        const name = e.ref.slice(0, e.ref.indexOf("{"));
        expect((await listSeries(sql, { name })).length).toBeGreaterThan(0);
      }
    }
    // 404s are good: attainment is (ok + 404) / total, far above the 70% a 4xx-as-error SLI would give.
    const t = truth.shop!;
    expect(byKind.availability!.backtest.attainment).toBeCloseTo((100 * t.good) / t.total, 4);
    expect(byKind.availability!.backtest.attainment).toBeGreaterThan(99);
    // p95 lies in the (100, 250] ms bucket: the threshold is its upper bound.
    expect(byKind.latency!.sli.threshold).toEqual({ value: 250, unit: "ms" });
    expect(byKind.latency!.backtest.attainment).toBeCloseTo((100 * t.latencyGood.get("0.25")!) / t.total, 4);
    expect(byKind.availability!.target.recommended).toBeGreaterThanOrEqual(99);
    expect(byKind.availability!.target.errorBudget).toBeCloseTo(
      1 - byKind.availability!.target.recommended / 100,
      9,
    );
    expect(r.recommendations.map((x) => x.kind)).not.toContain("missing-metrics");
  });

  it("cites the incident as the top budget consumer, with its error capsule and failing trace, all resolvable", async () => {
    const r = await analyze("shop");
    const p = r.proposals.find((x) => x.sli.kind === "availability")!;
    const top = p.evidence.find((e) => e.kind === "backtest")!;
    expect(top.note).toMatch(/top budget consumer #1/);
    expect(top.range!.start).toBeLessThanOrEqual(INCIDENT.start + STEP);
    expect(top.range!.end).toBeGreaterThanOrEqual(INCIDENT.end);
    expect(top.range!.end - top.range!.start).toBeLessThanOrEqual(5 * HOUR);
    const cap = p.evidence.find((e) => e.kind === "capsule")!;
    const stored = await getCapsule(sql, cap.ref);
    expect(stored?.template).toBe("payment provider timed out after <*> ms");
    const traces = p.evidence.filter((e) => e.kind === "trace");
    expect(traces[0]!.ref).toBe("f".repeat(32));
    const stored2 = await listExampleTraces(sql, { journeyKey: "shop POST /orders" });
    expect(traces.every((e) => stored2.some((s) => s.traceId === e.ref))).toBe(true);
  });

  it("caps the target of a flat 100% service and explains the low volume", async () => {
    const r = await analyze("flat");
    const p = r.proposals.find((x) => x.sli.kind === "availability")!;
    expect(p.backtest.attainment).toBe(100);
    // 96 requests a day: 2,688 per 28 days allow fewer than one bad event above 99.95%.
    expect(p.target.recommended).toBeLessThan(99.99);
    expect(p.target.aspirational).toBeUndefined();
    const volume = p.confidence.parts.find((x) => x.name === "volume")!;
    expect(volume.score).toBeLessThan(1);
    expect(volume.detail).toMatch(/bad events/);
    expect(p.rationale).toMatch(/too few to measure/);
  });

  it("refuses under 7 days of history with a clear message", async () => {
    const r = await analyze("young");
    expect(r.proposals).toEqual([]);
    expect(r.skipped.length).toBeGreaterThan(0);
    const msg = refusedForShortHistory(r);
    expect(msg).toMatch(/not enough history .*5\.0 days.*at least 7 days/);
  });

  it("proposes a log-based SLI for a service with only logs, and says what to instrument", async () => {
    const r = await analyze("notify");
    expect(r.journeys).toEqual([]);
    expect(r.proposals).toHaveLength(1);
    const p = r.proposals[0]!;
    expect(p.sli).toMatchObject({ kind: "log", source: "logs", journey: "notify (logs)" });
    for (const q of Object.values(p.sli.promql)) expect(promqlErrors(renderWindow(q!, 300_000))).toEqual([]);
    // 99 info + 1 error a hour, 3 errors every sixth hour.
    const total = 10 * 24 * 100 + 10 * 4 * 2;
    const bad = 10 * 24 + 10 * 4 * 2;
    expect(p.backtest.attainment).toBeCloseTo((100 * (total - bad)) / total, 4);
    expect(r.recommendations.map((x) => x.kind)).toContain("logs-only");
  });

  it("judges web vitals on a ladder from p75 good, and recommends a rung its reasons say holds (INP)", async () => {
    const r = await analyze("web");
    const rum = r.proposals.filter((p) => p.sli.kind === "rum");
    expect(rum.map((p) => p.name).sort()).toEqual(["web GET / INP", "web GET / LCP"]);
    const inp = rum.find((p) => p.name === "web GET / INP")!;
    expect(inp.backtest.attainment).toBeCloseTo(87, 1);
    expect(inp.backtest.ladder.map((x) => x.target).slice(0, 3)).toEqual([75, 80, 85]);
    expect(inp.target).toMatchObject({ recommended: 80, safe: 75, aspirational: 85, errorBudget: 0.2 });
    expect(inp.rationale).toMatch(
      /^Core Web Vitals count a page as good when the 75th percentile .*; 80%: worst 28d window used/,
    );
    expect(inp.rationale).not.toMatch(/80% fails|no rung passes/);
    expect(inp.warnings.join(" ")).not.toMatch(/days of history/);
  });

  it("refuses a log SLI over four log lines from minutes ago, with the date it can run", async () => {
    const r = await analyze("fresh");
    expect(r.proposals).toEqual([]);
    expect(r.skipped).toEqual([
      {
        journey: "fresh (logs)",
        kind: "log",
        reason: expect.stringMatching(
          /^not enough history for fresh \(logs\) log SLI: 0\.0 days \(2026-11-19T23:00Z to 2026-11-20T00:00Z\).*run again after 2026-11-26T23:00Z/,
        ),
      },
    ]);
  });

  it("proposes no SLI for a journey whose traces have no http.route, and recommends adding it", async () => {
    const r = await analyze("inv");
    expect(r.journeys.map((j) => j.key)).toEqual(["inv GET other"]);
    expect(r.proposals).toEqual([]);
    expect(r.recommendations.map((x) => x.kind)).toContain("missing-route");
  });

  it("names the known services for an unknown one, and the known SLIs for an unknown SLI id", async () => {
    const err = await analyzeService("nope", { sql }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnknownServiceError);
    expect((err as Error).message).toMatch(/unknown service "nope". Known services: .*flat.*shop/);
    const e2 = await analyzeService(
      "shop",
      { sql },
      { stepMs: STEP, end: END, sliId: "sli-000000000000" },
    ).catch((e: unknown) => e);
    expect(e2).toBeInstanceOf(UnknownSliError);
    const shop = await analyze("shop");
    expect((e2 as Error).message).toContain(shop.proposals[0]!.sli.id);
  });
});
