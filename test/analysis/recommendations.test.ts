import { describe, expect, it } from "vitest";
import { recommendInstrumentation, suggestBucketsMs } from "../../src/analysis/recommendations.js";
import { InstrumentationRecommendation } from "../../src/core/evidence.js";

const full = {
  service: "checkout",
  journey: "checkout POST /api/checkout",
  hasTraces: true,
  hasRoute: true,
  hasMetrics: true,
  hasHistogram: true,
  hasLogs: true,
};

describe("instrumentation recommendations", () => {
  it("recommends nothing for a fully instrumented journey", () => {
    expect(recommendInstrumentation(full)).toEqual([]);
  });

  it("tells a logs-only service exactly how to add OpenTelemetry, for its language", () => {
    const recs = recommendInstrumentation({
      service: "legacy-billing",
      hasTraces: false,
      hasMetrics: false,
      hasHistogram: false,
      hasLogs: true,
      language: "python",
    });
    expect(recs).toHaveLength(1);
    expect(recs[0]!.kind).toBe("logs-only");
    expect(recs[0]!.message).toMatch(/only sends logs/);
    expect(recs[0]!.snippet).toContain("OTEL_SERVICE_NAME=legacy-billing");
    expect(recs[0]!.snippet).toContain("opentelemetry-instrument");
    for (const r of recs) expect(InstrumentationRecommendation.parse(r)).toEqual(r);
  });

  it("asks for metrics when only traces exist, and for the route when it is missing", () => {
    const recs = recommendInstrumentation({ ...full, hasMetrics: false, hasRoute: false, language: "node" });
    expect(recs.map((r) => r.kind)).toEqual(["missing-metrics", "missing-route"]);
    expect(recs[0]!.message).toMatch(/span metrics, which undercount when traces are sampled/);
    expect(recs[1]!.snippet).toContain("span.setAttribute('http.route', '/orders/:id')");
    expect(recs[0]!.journey).toBe(full.journey);
  });

  it("does not ask for http.route on a messaging journey", () => {
    const recs = recommendInstrumentation({ ...full, hasRoute: false, protocol: "messaging" });
    expect(recs).toEqual([]);
  });

  it("asks for the http server duration histogram with buckets around the observed p95", () => {
    const recs = recommendInstrumentation({ ...full, hasHistogram: false, p95Ms: 180, language: "node" });
    expect(recs).toHaveLength(1);
    expect(recs[0]!.kind).toBe("missing-histogram");
    expect(recs[0]!.message).toMatch(/http\.server\.request\.duration/);
    expect(recs[0]!.message).toContain("0.2, 0.25");
    expect(recs[0]!.snippet).toContain("EXPLICIT_BUCKET_HISTOGRAM");
    expect(recs[0]!.snippet).toContain("http_server_request_duration_seconds");
  });

  it("flags buckets too coarse to place a latency threshold near p95", () => {
    const recs = recommendInstrumentation({ ...full, histogramBoundsMs: [100, 1000, 10000], p95Ms: 180 });
    expect(recs).toHaveLength(1);
    expect(recs[0]!.kind).toBe("other");
    expect(recs[0]!.message).toMatch(/nearest bucket at or above it is 1000 ms/);
    expect(recommendInstrumentation({ ...full, histogramBoundsMs: [100, 250, 1000], p95Ms: 180 })).toEqual(
      [],
    );
  });

  it("asks for traces when only metrics exist and for RUM on a user-facing journey without it", () => {
    const recs = recommendInstrumentation({ ...full, hasTraces: false, userFacing: true, hasRum: false });
    expect(recs.map((r) => r.kind)).toEqual(["missing-traces", "other"]);
    expect(recs[1]!.message).toMatch(/LCP, INP, CLS/);
    expect(recs[1]!.snippet).toContain("/collect");
  });

  it("suggests semconv buckets plus bounds just above p95 and twice it", () => {
    const b = suggestBucketsMs(180);
    expect(b).toContain(200);
    expect(b).toContain(500);
    expect(b).toEqual([...b].sort((x, y) => x - y));
    expect(suggestBucketsMs()).toHaveLength(14);
  });
});
