import { describe, expect, it } from "vitest";
import type { Span } from "../../src/core/telemetry.js";
import { SpanAggregates, TraceAssembler } from "../../src/pipeline/span-aggregates.js";
import { keyBudget, operationOf, summarizeTrace, type TraceSpan } from "../../src/pipeline/trace-summary.js";

const TRACE = "0af7651916cd43dd8448eb211c80319c";
let next = 1;
const id = () => (next++).toString(16).padStart(16, "0");

function span(
  service: string,
  kind: Span["kind"],
  attrs: Record<string, string | number>,
  parent?: TraceSpan,
  extra: Partial<Span> = {},
): TraceSpan {
  const start = (parent?.span.startTime ?? 1_700_000_000_000) + 1;
  return {
    service,
    resource: service === "web-browser" ? { "telemetry.sdk.language": "webjs" } : {},
    span: {
      traceId: TRACE,
      spanId: id(),
      parentSpanId: parent?.span.spanId,
      name: `${kind} span`,
      kind,
      startTime: start,
      endTime: start + 40,
      status: "unset",
      attributes: attrs,
      events: [],
      ...extra,
    },
  };
}

function checkoutTrace(status = 200) {
  const browser = span("web-browser", "client", {
    "http.request.method": "POST",
    "url.path": "/api/checkout",
  });
  const gw = span(
    "api-gateway",
    "server",
    { "http.request.method": "POST", "http.route": "/api/checkout", "http.response.status_code": status },
    browser,
  );
  const gwCall = span("api-gateway", "client", { "http.request.method": "POST" }, gw);
  const co = span("checkout", "server", { "http.request.method": "POST", "http.route": "/checkout" }, gwCall);
  const db = span("checkout", "client", { "db.system": "postgresql" }, co);
  const pay = span("payment", "server", { "rpc.service": "Payment", "rpc.method": "Charge" }, co, {
    status: status >= 500 ? "error" : "unset",
  });
  return [browser, gw, gwCall, co, db, pay];
}

describe("summarizeTrace", () => {
  it("takes the first server span under a browser root as the journey entry", () => {
    const obs = summarizeTrace(checkoutTrace());
    expect(obs.entry).toMatchObject({
      journeyKey: "api-gateway POST /api/checkout",
      fromBrowser: true,
      outcome: "ok",
      route: "/api/checkout",
    });
  });

  it("lists the service→service calls and uninstrumented peers beneath the entry", () => {
    const edges = summarizeTrace(checkoutTrace()).edges.map((e) => `${e.from}->${e.to}:${e.operation}`);
    expect(edges.sort()).toEqual([
      "api-gateway->checkout:POST /checkout",
      "checkout->payment:Payment/Charge",
      "checkout->postgresql:client span",
    ]);
  });

  it("counts 4xx as client errors, not errors, and 5xx as server errors", () => {
    expect(summarizeTrace(checkoutTrace(404)).entry?.outcome).toBe("client-error");
    expect(summarizeTrace(checkoutTrace(503)).entry?.outcome).toBe("server-error");
  });

  it("treats a span whose parent never arrived as a local root (partial trace)", () => {
    const [, gw, , co] = checkoutTrace();
    const obs = summarizeTrace([co!]);
    expect(obs.entry?.journeyKey).toBe("checkout POST /checkout");
    expect(summarizeTrace([gw!]).entry?.fromBrowser).toBe(false);
  });

  it("names a client call by method and URL path, not `POST POST`", () => {
    const call = (attrs: Record<string, string>) =>
      operationOf(
        span("payment", "client", { "http.request.method": "POST", ...attrs }, undefined, { name: "POST" })
          .span,
      ).operation;
    expect(call({ "url.full": "https://api.psp.example/v1/charges?idem=1" })).toBe("POST /v1/charges");
    expect(call({ "http.url": "https://api.psp.example/v1/refunds" })).toBe("POST /v1/refunds");
    expect(call({})).toBe("POST");
    expect(call({ "url.full": "https://api.psp.example/v1/charges/ch_3PzQk2LkdIwHu7ix0aBc1" })).toBe(
      "POST other",
    );
  });

  it("folds raw paths with identifiers and keys beyond the budget into `{method} other`", () => {
    const raw = span("catalog", "server", {
      "http.request.method": "GET",
      "url.path": "/api/products/12345",
    });
    expect(summarizeTrace([raw]).entry?.journeyKey).toBe("catalog GET other");
    const budget = keyBudget(2);
    const keys = ["/a", "/b", "/c"].map(
      (route) =>
        summarizeTrace([span("svc", "server", { "http.request.method": "GET", "http.route": route })], budget)
          .entry?.journeyKey,
    );
    expect(keys).toEqual(["svc GET /a", "svc GET /b", "svc GET other"]);
  });

  it("falls back to the span name when there is no HTTP, RPC or messaging attribute", () => {
    expect(
      summarizeTrace([span("worker", "consumer", {}, undefined, { name: "nightly" })]).entry?.journeyKey,
    ).toBe("worker nightly");
  });
});

describe("TraceAssembler and SpanAggregates", () => {
  it("summarises a trace once it is quiet and aggregates it per hour window", () => {
    const assembler = new TraceAssembler({ quietMs: 1000, maxAgeMs: 10_000, maxTraces: 10 });
    for (const s of checkoutTrace(503)) assembler.add(s, 0);
    expect(assembler.drain(500)).toEqual([]);
    const [trace] = assembler.drain(1500);
    const agg = new SpanAggregates({ windowMs: 3_600_000, allowedLatenessMs: 0 }, 5, () => 0.5);
    agg.apply(summarizeTrace(trace!));
    const [route] = agg.routes.takeChanges();
    expect(route?.state).toMatchObject({ requests: 1, errors: 1, fromBrowser: 1, service: "api-gateway" });
    expect(agg.edges.takeChanges().map((e) => e.state.errors)).toContain(1);
    expect(agg.examples.takeChanges()[0]?.state.traces).toHaveLength(1);
  });

  it("pushes out the oldest trace when the buffer is full", () => {
    const assembler = new TraceAssembler({ quietMs: 1000, maxAgeMs: 10_000, maxTraces: 1 });
    const a = span("a", "server", {});
    const b = {
      ...span("b", "server", {}),
      span: { ...span("b", "server", {}).span, traceId: "f".repeat(32) },
    };
    expect(assembler.add(a, 0)).toEqual([]);
    expect(assembler.add(b, 0)).toEqual([[a]]);
  });
});
