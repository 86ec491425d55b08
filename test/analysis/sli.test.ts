import { describe, expect, it } from "vitest";
import {
  addLogSeries,
  readLatencyHistory,
  readSliHistory,
  stepRange,
} from "../../src/analysis/history-source.js";
import {
  inventoryOf,
  latencyCandidate,
  logCandidate,
  metricJourneys,
  rumCandidate,
  sliCandidates,
  sliId,
} from "../../src/analysis/sli.js";
import { latencySli } from "../../src/analysis/targets.js";
import type { Journey } from "../../src/core/journey.js";
import { Sli } from "../../src/core/slo.js";
import { renderWindow } from "../../src/generators/recording-rules.js";
import { promqlErrors } from "../../src/generators/validate/promql.js";
import { Evaluator, MemorySource } from "../../src/promql/index.js";

const STEP = 5 * 60_000;
const T0 = Date.UTC(2026, 10, 1);

function journey(
  service: string,
  method: string | undefined,
  route: string | undefined,
  op?: string,
): Journey {
  return {
    key: `${service} ${op ?? `${method} ${route}`}`,
    service,
    ...(method ? { method } : {}),
    ...(route ? { route } : {}),
    entrySpans: [op ?? `${method} ${route}`],
    downstream: [],
    signature: "",
    trafficShare: 1,
    requests: 100,
    errorShare: 0,
    depth: 0,
    userFacing: false,
    score: 0,
    exampleTraceIds: [],
  };
}

/** Cumulative counter samples at every step from per-step increments. */
function counter(
  src: MemorySource,
  labels: Record<string, string>,
  perStep: (i: number) => number,
  steps: number,
) {
  const ts: number[] = [];
  const vs: number[] = [];
  let v = 0;
  for (let i = 0; i <= steps; i++) {
    if (i > 0) v += perStep(i);
    ts.push(T0 + i * STEP);
    vs.push(v);
  }
  src.add(labels, ts, vs);
}

const parses = (q: string | undefined) => expect(q && promqlErrors(renderWindow(q, 300_000))).toEqual([]);

describe("SLI candidates", () => {
  it("builds availability from the app's counter (5xx bad, 4xx good) and reads its history through the PromQL", async () => {
    const src = new MemorySource();
    const base = { service: "payment", route: "/v1/charges", method: "POST" };
    const steps = 288;
    // 4xx-heavy traffic: 40% of requests are 400s, 1% are 503s.
    counter(src, { __name__: "http_server_requests_total", ...base, status: "201" }, () => 59, steps);
    counter(src, { __name__: "http_server_requests_total", ...base, status: "400" }, () => 40, steps);
    counter(src, { __name__: "http_server_requests_total", ...base, status: "503" }, () => 1, steps);
    counter(
      src,
      { __name__: "http_server_requests_total", ...base, route: "/v1/refunds", status: "500" },
      () => 50,
      steps,
    );
    const inv = inventoryOf(
      (await src.select("http_server_requests_total", [], 0, Number.POSITIVE_INFINITY)).map((s) => ({
        name: s.labels.__name__!,
        labels: s.labels,
      })),
    );
    const c = sliCandidates(journey("payment", "POST", "/v1/charges"), inv);
    expect(c.has).toEqual({ metrics: true, histogram: false, spanMetrics: false });
    expect(c.availability).toHaveLength(1);
    const a = c.availability[0]!;
    expect(Sli.parse(a.sli)).toBeTruthy();
    expect(a.sli.promql.good).toBe(
      'sum(increase(http_server_requests_total{service="payment",route="/v1/charges",method="POST",status!~"5.."}[{{.window}}]))',
    );
    for (const q of Object.values(a.sli.promql)) parses(q);
    expect(a.sli.id).toBe(sliId("payment POST /v1/charges", "availability", "metrics"));

    const h = await readSliHistory(new Evaluator(src), a, {
      start: T0 + STEP,
      end: T0 + steps * STEP,
      stepMs: STEP,
    });
    expect(h.points).toHaveLength(steps);
    const good = h.points.reduce((x, p) => x + p.good, 0);
    const total = h.points.reduce((x, p) => x + p.total, 0);
    // The 400s are good: 99% availability, not 59%. The other route's 500s are not selected.
    expect(good / total).toBeCloseTo(0.99, 9);
    expect(total).toBeCloseTo(100 * steps, 0);
  });

  it("finds the journey under other label spellings and in span metrics", () => {
    const inv = inventoryOf([
      {
        name: "http_requests_total",
        labels: { job: "shop/cart", handler: "/cart", http_method: "get", code: "200" },
      },
      {
        name: "http_requests_total",
        labels: { job: "shop/cart", handler: "/cart", http_method: "get", code: "503" },
      },
      {
        name: "traces_spanmetrics_calls_total",
        labels: {
          service_name: "cart",
          span_name: "GET /cart",
          span_kind: "SPAN_KIND_SERVER",
          status_code: "STATUS_CODE_ERROR",
        },
      },
      {
        name: "traces_spanmetrics_calls_total",
        labels: {
          service_name: "cart",
          span_name: "GET /cart",
          span_kind: "SPAN_KIND_SERVER",
          status_code: "STATUS_CODE_UNSET",
        },
      },
    ]);
    const c = sliCandidates(journey("cart", "GET", "/cart"), inv);
    expect(c.availability.map((a) => a.sli.source)).toEqual(["metrics", "span-metrics"]);
    expect(c.availability[0]!.sli.promql.total).toBe(
      'sum(increase(http_requests_total{job="shop/cart",handler="/cart",http_method="get"}[{{.window}}]))',
    );
    expect(c.availability[0]!.sli.promql.good).toContain('code!~"5.."');
    expect(c.availability[1]!.sli.promql.good).toContain('status_code!="STATUS_CODE_ERROR"');
    expect(c.availability[1]!.sli.promql.total).toContain('span_kind="SPAN_KIND_SERVER"');
    for (const a of c.availability) for (const q of Object.values(a.sli.promql)) parses(q);
  });

  it("proposes nothing for a journey whose route is unknown or whose service has no metrics", () => {
    const inv = inventoryOf([
      {
        name: "http_server_requests_total",
        labels: { service: "inventory", route: "/products/{id}", method: "GET", status: "200" },
      },
    ]);
    // Traces had no http.route: the journey is `GET other` and no series can be selected for it.
    const noRoute = sliCandidates(journey("inventory", "GET", undefined, "GET other"), inv);
    expect(noRoute.availability).toEqual([]);
    expect(noRoute.has.metrics).toBe(false);
    const grpc = sliCandidates(journey("cart", undefined, undefined, "oteldemo.CartService/GetCart"), inv);
    expect(grpc).toEqual({
      availability: [],
      latency: [],
      has: { metrics: false, histogram: false, spanMetrics: false },
    });
  });

  it("puts the latency threshold on a bucket bound (p95 snapped up) and reads good/total from the bucket and count", async () => {
    const src = new MemorySource();
    const base = { service: "api", route: "/x", method: "GET" };
    const les = ["0.05", "0.1", "0.25", "0.5", "+Inf"];
    // Per step: 50 under 50 ms, 40 more under 100 ms, 7 more under 250 ms, 3 more under 500 ms.
    const cum = [50, 90, 97, 100, 100];
    const steps = 100;
    les.forEach((le, i) => {
      counter(
        src,
        { __name__: "http_server_request_duration_seconds_bucket", ...base, le },
        () => cum[i]!,
        steps,
      );
    });
    counter(src, { __name__: "http_server_request_duration_seconds_count", ...base }, () => 100, steps);
    const names = [
      "http_server_request_duration_seconds_bucket",
      "http_server_request_duration_seconds_count",
    ];
    const series = (
      await Promise.all(names.map((n) => src.select(n, [], 0, Number.POSITIVE_INFINITY)))
    ).flat();
    const inv = inventoryOf(series.map((s) => ({ name: s.labels.__name__!, labels: s.labels })));
    const c = sliCandidates(journey("api", "GET", "/x"), inv);
    expect(c.has.histogram).toBe(true);
    const l = c.latency[0]!;
    expect(l.bounds.map((b) => b.ms)).toEqual([50, 100, 250, 500]);
    const range = { start: T0 + STEP, end: T0 + steps * STEP, stepMs: STEP };
    const lh = await readLatencyHistory(new Evaluator(src), l, range);
    const { threshold } = latencySli(lh, 0.95);
    expect(threshold.thresholdMs).toBe(250);
    const cand = latencyCandidate(l, threshold.thresholdMs);
    expect(cand.sli.promql.good).toContain('le="0.25"');
    expect(cand.sli.promql.total).toContain("http_server_request_duration_seconds_count{");
    expect(cand.sli.threshold).toEqual({ value: 250, unit: "ms" });
    for (const q of Object.values(cand.sli.promql)) parses(q);
    const h = await readSliHistory(new Evaluator(src), cand, range);
    const good = h.points.reduce((x, p) => x + p.good, 0);
    const total = h.points.reduce((x, p) => x + p.total, 0);
    expect(good / total).toBeCloseTo(0.97, 9);
    expect(() => latencyCandidate(l, 200)).toThrow(/not a bucket bound/);
  });

  it("counts one step's events exactly even when samples are one step apart", () => {
    expect(stepRange(STEP)).toBe("300001ms");
  });

  it("derives a log SLI from capsule severities", async () => {
    const src = new MemorySource();
    const range = { start: T0 + STEP, end: T0 + 24 * 3_600_000, stepMs: STEP };
    addLogSeries(
      src,
      Array.from({ length: 24 }, (_, h) => ({
        fingerprint: "f".repeat(64),
        template: "sent <*>",
        service: "notification",
        windowStart: T0 + h * 3_600_000,
        count: 100,
        severityCounts: { info: 98, error: h === 5 ? 2 : 0, fatal: h === 5 ? 0 : 2 },
        firstSeen: T0,
        lastSeen: T0,
        samples: [],
      })),
      range,
    );
    const c = logCandidate("notification (logs)", "notification");
    for (const q of Object.values(c.sli.promql)) parses(q);
    const h = await readSliHistory(new Evaluator(src), c, range);
    const good = h.points.reduce((x, p) => x + p.good, 0);
    const total = h.points.reduce((x, p) => x + p.total, 0);
    // Counts are exact up to the 1 ms extrapolation of each step's range (3·10⁻⁶).
    expect(total).toBeCloseTo(2400, 1);
    expect(good / total).toBeCloseTo(1 - 48 / 2400, 7);
  });

  it("reads journeys from request metrics for a service without traces", () => {
    const inv = inventoryOf([
      { name: "http_requests_total", labels: { job: "shop/api", handler: "/a", method: "get", code: "200" } },
      { name: "http_requests_total", labels: { job: "shop/api", handler: "/a", method: "get", code: "500" } },
      {
        name: "http_requests_total",
        labels: { job: "shop/api", handler: "/b", method: "post", code: "200" },
      },
      {
        name: "http_requests_total",
        labels: { job: "shop/other", handler: "/c", method: "get", code: "200" },
      },
    ]);
    const js = metricJourneys("api", inv);
    expect(js.map((j) => j.key)).toEqual(["api GET /a", "api POST /b"]);
    const c = sliCandidates(js[0]!, inv);
    expect(c.availability[0]!.sli.promql.good).toBe(
      'sum(increase(http_requests_total{job="shop/api",handler="/a",method="get",code!~"5.."}[{{.window}}]))',
    );
  });

  it("writes RUM SLIs as parseable PromQL on the good threshold bucket", () => {
    const c = rumCandidate("frontend GET /", "web-browser", "/", "LCP", "2500");
    expect(c.sli.kind).toBe("rum");
    expect(c.sli.threshold).toEqual({ value: 2500, unit: "ms" });
    for (const q of Object.values(c.sli.promql)) parses(q);
  });
});
