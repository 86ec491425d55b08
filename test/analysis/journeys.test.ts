import { describe, expect, it } from "vitest";
import {
  discoverJourneys,
  edgeSignature,
  histogramQuantileMs,
  isRawPath,
  journeysOf,
} from "../../src/analysis/journeys.js";
import type { EdgeStats, ExampleTrace, LatencyHistogram, RouteStats } from "../../src/core/aggregates.js";
import { Journey } from "../../src/core/journey.js";

const BOUNDS = [5, 10, 25, 50, 100, 250, 500, 1000];
const T0 = Date.UTC(2026, 10, 1);
const H = 3_600_000;

/** A histogram with `n` observations all in the bucket whose upper bound is `atMs`. */
function hist(n: number, atMs: number): LatencyHistogram {
  const counts = new Array(BOUNDS.length + 1).fill(0);
  const i = BOUNDS.findIndex((b) => b >= atMs);
  counts[i < 0 ? BOUNDS.length : i] = n;
  return { boundsMs: [...BOUNDS], counts, sumMs: n * atMs };
}

function route(key: string, o: Partial<RouteStats> = {}): RouteStats {
  const [service, ...rest] = key.split(" ");
  const operation = rest.join(" ");
  const [method, r] = operation.split(" ");
  return {
    journeyKey: key,
    service: service!,
    ...(r?.startsWith("/") ? { method, route: r } : {}),
    operation,
    windowStart: T0,
    requests: 100,
    errors: 1,
    clientErrors: 0,
    fromBrowser: 0,
    latency: hist(100, 50),
    ...o,
  };
}

function edge(
  journeyKey: string,
  from: string,
  to: string,
  operation: string,
  o: Partial<EdgeStats> = {},
): EdgeStats {
  return {
    journeyKey,
    from,
    to,
    operation,
    windowStart: T0,
    calls: 100,
    errors: 0,
    latency: hist(100, 100),
    ...o,
  };
}

const CHECKOUT = "frontend POST /api/checkout";
const checkoutEdges = (key = CHECKOUT, windowStart = T0) => [
  edge(key, "frontend", "api-gateway", "POST /api/checkout", { windowStart }),
  edge(key, "api-gateway", "checkout", "POST /checkout", { windowStart, errors: 3 }),
  edge(key, "checkout", "payment", "POST /v1/charges", { windowStart, errors: 2, latency: hist(100, 250) }),
  edge(key, "checkout", "inventory", "POST /stock/reserve", { windowStart }),
  edge(key, "checkout", "cart", "oteldemo.CartService/GetCart", { windowStart }),
  edge(key, "payment", "postgresql", "SELECT payment_methods", { windowStart }),
  edge(key, "payment", "psp", "POST", { windowStart }),
];

describe("journey discovery", () => {
  it("builds the downstream DAG, depth, signature and per-edge latency of a journey", () => {
    const { journeys } = discoverJourneys({
      routes: [
        route(CHECKOUT, { fromBrowser: 95 }),
        route(CHECKOUT, { windowStart: T0 + H, fromBrowser: 100 }),
      ],
      edges: [...checkoutEdges(), ...checkoutEdges(CHECKOUT, T0 + H)],
    });
    const j = journeys.find((x) => x.key === CHECKOUT)!;
    expect(Journey.parse(j)).toBeTruthy();
    expect(j).toMatchObject({
      service: "frontend",
      method: "POST",
      route: "/api/checkout",
      requests: 200,
      userFacing: true,
    });
    expect(j.entrySpans).toEqual(["POST /api/checkout"]);
    // frontend → api-gateway → checkout → payment → psp
    expect(j.depth).toBe(4);
    const pay = j.downstream.find((e) => e.to === "payment")!;
    expect(pay).toMatchObject({ from: "checkout", calls: 200, errorShare: 0.02 });
    // All observations in (100, 250]: p50 interpolates to the middle, p95 near the top.
    expect(pay.p50Ms).toBeCloseTo(175, 5);
    expect(pay.p95Ms).toBeCloseTo(242.5, 5);
    expect(j.signature).toBe(edgeSignature(j.downstream));
    expect(j.signature).toMatch(/^[0-9a-f]{16}$/);
  });

  it("gives the services a journey passes through journeys of their own, with their part of the DAG", () => {
    const { journeys } = discoverJourneys({ routes: [route(CHECKOUT)], edges: checkoutEdges() });
    const own = journeys.find((j) => j.key === "checkout POST /checkout")!;
    expect(own).toMatchObject({ service: "checkout", method: "POST", route: "/checkout", requests: 100 });
    expect(own.downstream.map((e) => `${e.from}->${e.to}`).sort()).toEqual([
      "checkout->cart",
      "checkout->inventory",
      "checkout->payment",
      "payment->postgresql",
      "payment->psp",
    ]);
    expect(own.depth).toBe(2);
    // Databases and third parties send no spans: no journeys for them.
    expect(journeys.some((j) => j.service === "postgresql" || j.service === "psp")).toBe(false);
    // Entered at checkout, or passing through it (api-gateway's own part of the DAG calls checkout).
    expect(
      journeysOf("checkout", journeys)
        .map((j) => j.key)
        .sort(),
    ).toEqual(["api-gateway POST /api/checkout", "checkout POST /checkout", CHECKOUT]);
    expect(journeysOf("psp", journeys).map((j) => j.key)).not.toContain("psp POST");
  });

  it("merges partial traces (a root that lost its upstream spans) into the callee's journey", () => {
    // 2 traces lost the api-gateway spans: checkout's server span became a root of its own.
    const orphan = route("checkout POST /checkout", { requests: 2, errors: 1 });
    const { journeys } = discoverJourneys({
      routes: [route(CHECKOUT), orphan],
      edges: checkoutEdges(),
    });
    const own = journeys.filter((j) => j.key === "checkout POST /checkout");
    expect(own).toHaveLength(1);
    expect(own[0]!.requests).toBe(102);
    // A trace that lost api-gateway's spans names it by host: it is still api-gateway.
    const lost = discoverJourneys({
      routes: [route(CHECKOUT)],
      edges: [
        ...checkoutEdges(),
        edge(CHECKOUT, "frontend", "api-gateway.shop.svc.cluster.local", "POST", { calls: 2 }),
      ],
    });
    const j = lost.journeys.find((x) => x.key === CHECKOUT)!;
    expect(j.downstream.map((e) => e.to)).not.toContain("api-gateway.shop.svc.cluster.local");
    expect(
      j.downstream.filter((e) => e.from === "frontend" && e.to === "api-gateway").map((e) => e.calls),
    ).toEqual([100, 2]);
    // A trace that lost its browser root is the same journey, only not from a browser.
    const r = discoverJourneys({
      routes: [
        route(CHECKOUT, { fromBrowser: 96 }),
        route(CHECKOUT, { windowStart: T0 + H, fromBrowser: 0, requests: 4 }),
      ],
      edges: [],
    });
    expect(r.journeys).toHaveLength(1);
    expect(r.journeys[0]).toMatchObject({ requests: 104, userFacing: true, depth: 0, downstream: [] });
  });

  it("keys journeys without http.route by span name and folds raw paths with ids into `{method} other`", () => {
    const routes = [
      route("inventory GET /products/123", { requests: 3, route: undefined }),
      route("inventory GET /products/9f8e7d6c5b4a", { requests: 4, route: undefined }),
      route("inventory GET /healthz", { requests: 5 }),
      { ...route("inventory ListProducts"), method: undefined, route: undefined, operation: "ListProducts" },
    ];
    const { journeys } = discoverJourneys({ routes, edges: [] });
    const keys = journeys.map((j) => j.key).sort();
    expect(keys).toEqual(["inventory GET /healthz", "inventory GET other", "inventory ListProducts"]);
    const other = journeys.find((j) => j.key === "inventory GET other")!;
    expect(other.requests).toBe(7);
    expect(other.route).toBeUndefined();
    expect(isRawPath("GET /orders/550e8400-e29b-41d4-a716-446655440000")).toBe(true);
    expect(isRawPath("GET /orders/{id}")).toBe(false);
  });

  it("caps high-cardinality keys per service: the least used fold into `{method} other`", () => {
    const routes = Array.from({ length: 40 }, (_, i) =>
      route(`api GET /page-${String(i).padStart(2, "0")}`, { requests: 1000 - i }),
    );
    const { journeys } = discoverJourneys({ routes, edges: [] }, { maxKeysPerService: 10 });
    expect(journeys).toHaveLength(11);
    const other = journeys.find((j) => j.key === "api GET other")!;
    expect(other.requests).toBe(routes.slice(10).reduce((a, r) => a + r.requests, 0));
    expect(journeys.filter((j) => j.key !== "api GET other").every((j) => Number(j.key.slice(-2)) < 10)).toBe(
      true,
    );
    expect(journeys.reduce((a, j) => a + j.trafficShare, 0)).toBeCloseTo(1, 3);
  });

  it("ranks by traffic share, user-facing, error impact and depth", () => {
    const { journeys } = discoverJourneys({
      routes: [
        route("shop GET /busy", { requests: 800, errors: 0 }),
        route("shop POST /pay", { requests: 100, errors: 20, fromBrowser: 100 }),
        route("shop GET /quiet", { requests: 100, errors: 0 }),
      ],
      edges: [edge("shop POST /pay", "shop", "bank", "POST /charge")],
    });
    expect(journeys.map((j) => j.key)).toEqual(["shop POST /pay", "shop GET /busy", "shop GET /quiet"]);
    const pay = journeys[0]!;
    expect(pay.score).toBeCloseTo(0.4 * 0.1 + 0.25 + 0.2 + 0.15 / 4, 4);
    expect(pay.errorShare).toBeCloseTo(0.2, 6);
  });

  it("keeps example trace ids, newest first, and lends a parent's traces to the services it calls", () => {
    const span = (service: string, kind = "server") => ({
      spanId: `${service}-1`,
      service,
      name: "x",
      kind,
      durationMs: 1,
      status: "ok",
      attributes: {},
    });
    const examples: ExampleTrace[] = [
      {
        journeyKey: CHECKOUT,
        traceId: "a".repeat(32),
        windowStart: T0,
        spans: [span("frontend"), span("checkout")],
      },
      { journeyKey: CHECKOUT, traceId: "b".repeat(32), windowStart: T0 + H, spans: [span("frontend")] },
    ];
    const { journeys } = discoverJourneys({ routes: [route(CHECKOUT)], edges: checkoutEdges(), examples });
    expect(journeys.find((j) => j.key === CHECKOUT)!.exampleTraceIds).toEqual([
      "b".repeat(32),
      "a".repeat(32),
    ]);
    expect(journeys.find((j) => j.key === "checkout POST /checkout")!.exampleTraceIds).toEqual([
      "a".repeat(32),
    ]);
  });

  it("interpolates quantiles like histogram_quantile and reports the last bound for the +Inf bucket", () => {
    expect(histogramQuantileMs(hist(10, 10), 0.5)).toBeCloseTo(7.5, 6);
    expect(histogramQuantileMs(hist(10, 5000), 0.5)).toBe(1000);
    expect(histogramQuantileMs({ boundsMs: BOUNDS, counts: new Array(9).fill(0), sumMs: 0 }, 0.9)).toBe(0);
  });
});
