import { describe, expect, it } from "vitest";
import { createDemoShop } from "../../src/demo/index.js";
import { MemorySource, queryRange } from "../../src/promql/index.js";
import { journeyKey } from "./helpers.js";

/** The default 28-day shop, read the way an analysis would: reset-aware increases of the emitted counters. */
describe("demo shop: 28 days at the defaults", () => {
  const shop = createDemoShop();
  const totals = new Map<string, { total: number; bad: number }>();
  const checkoutBadPerHour = new Float64Array(28 * 24);
  const last = new Map<string, number>();
  let samples = 0;
  // Request counters, and checkout's histogram, as a Prometheus would hold them.
  type Held = { labels: Record<string, string>; t: number[]; v: number[] };
  const held = new Map<string, Held>();
  for (const ev of shop.metrics()) {
    if (ev.kind !== "metric") continue;
    const isCheckout = ev.metric.labels.service === "checkout";
    if (
      ev.metric.name === "http_server_requests_total" ||
      (isCheckout && ev.metric.name.endsWith("_bucket"))
    ) {
      const labels = { __name__: ev.metric.name, ...ev.metric.labels };
      const k = JSON.stringify(labels);
      const h: Held = held.get(k) ?? { labels, t: [], v: [] };
      held.set(k, h);
      for (const x of ev.metric.samples) {
        h.t.push(x.time);
        h.v.push(x.value);
      }
    }
    if (ev.metric.name !== "http_server_requests_total") continue;
    const labels = ev.metric.labels;
    const seriesKey = `${journeyKey(labels)} ${labels.status}`;
    const key = journeyKey(labels);
    const agg = totals.get(key) ?? { total: 0, bad: 0 };
    totals.set(key, agg);
    for (const s of ev.metric.samples) {
      samples++;
      const prev = last.get(seriesKey);
      last.set(seriesKey, s.value);
      if (prev === undefined) continue;
      const inc = s.value >= prev ? s.value - prev : s.value;
      agg.total += inc;
      if (labels.status!.startsWith("5")) {
        agg.bad += inc;
        if (key === "checkout POST /checkout") {
          const h = Math.floor((s.time - 1 - shop.truth.start) / 3_600_000);
          checkoutBadPerHour[h] = checkoutBadPerHour[h]! + inc;
        }
      }
    }
  }

  it("is lazy: the first events of the 28-day stream come without generating the period", () => {
    const t0 = performance.now();
    let n = 0;
    for (const _ of shop.all()) if (++n >= 1000) break;
    expect(n).toBe(1000);
    expect(performance.now() - t0).toBeLessThan(5000);
  });

  it("covers 28 days with thousands of samples per series", () => {
    expect(shop.truth.end - shop.truth.start).toBe(28 * 86_400_000);
    expect(samples).toBeGreaterThan(400_000);
  });

  it("reproduces every journey's availability from the counters exactly, close to what it was told", () => {
    for (const j of Object.values(shop.truth.journeys).filter((x) => x.hasMetrics)) {
      const got = totals.get(j.key)!;
      expect(got.total).toBe(j.total);
      expect(got.bad).toBe(j.serverErrors);
      expect((got.total - got.bad) / got.total).toBe(j.availability);
      expect(Math.abs(j.availability - j.targetAvailability)).toBeLessThan(0.00001);
    }
  });

  it("gives the truth through the project's PromQL evaluator, reset included", async () => {
    const source = new MemorySource();
    for (const h of held.values()) source.add(h.labels, h.t, h.v);
    const at = async (query: string) => {
      const r = await queryRange(source, query, shop.truth.end, shop.truth.end, 60_000);
      return r.series[0]!.values[0]!;
    };
    for (const [key, sel] of [
      ["checkout POST /checkout", 'service="checkout",route="/checkout",method="POST"'],
      ["inventory POST /stock/reserve", 'service="inventory",route="/stock/reserve",method="POST"'],
    ] as const) {
      const availability = await at(
        `1 - sum(increase(http_server_requests_total{${sel},status=~"5.."}[28d])) / sum(increase(http_server_requests_total{${sel}}[28d]))`,
      );
      expect(Math.abs(availability - shop.truth.journeys[key]!.availability)).toBeLessThan(1e-9);
    }
    const j = shop.truth.journeys["checkout POST /checkout"]!;
    const le = String(j.latencyP95BucketSeconds);
    const sel = 'service="checkout",route="/checkout"';
    const fast = await at(
      `sum(increase(http_server_request_duration_seconds_bucket{${sel},le="${le}"}[28d])) / sum(increase(http_server_request_duration_seconds_bucket{${sel},le="+Inf"}[28d]))`,
    );
    expect(Math.abs(fast - j.latencyGoodRatioByLe[le]!)).toBeLessThan(1e-9);
  });

  it("makes the payment incident checkout's top budget consumer", () => {
    const inc = shop.truth.incidents.find((i) => i.id === "payment-psp-outage")!;
    const j = shop.truth.journeys["checkout POST /checkout"]!;
    expect(j.topBudgetConsumer?.incident).toBe(inc.id);
    expect(j.topBudgetConsumer!.share).toBeGreaterThan(0.25);
    // Its three hours burn more of the budget than any other three hours, and its day is the worst day.
    const windowErrors = (h: number) =>
      checkoutBadPerHour[h]! + checkoutBadPerHour[h + 1]! + checkoutBadPerHour[h + 2]!;
    let worst = 0;
    for (let h = 1; h < checkoutBadPerHour.length - 2; h++)
      if (windowErrors(h) > windowErrors(worst)) worst = h;
    const worstStart = shop.truth.start + worst * 3_600_000;
    expect(worstStart).toBeLessThan(inc.end);
    expect(worstStart + 3 * 3_600_000).toBeGreaterThan(inc.start);
    expect(windowErrors(worst) / j.serverErrors).toBeGreaterThan(0.25);
    expect(j.worstDay.start).toBeLessThanOrEqual(inc.start);
    expect(j.worstDay.start + 86_400_000).toBeGreaterThan(inc.start);
  });
});
