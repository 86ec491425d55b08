import { describe, expect, it } from "vitest";
import { createDemoShop, DURATION_BUCKETS } from "../../src/demo/index.js";
import { collectSeries, increase, increaseBetween, journeyKey } from "./helpers.js";

const shop = createDemoShop({ seed: 5, days: 3 });
const series = collectSeries(shop.metrics());
const counters = series.filter((s) => s.name === "http_server_requests_total");
const byName = (suffix: string) =>
  series.filter((s) => s.name === `http_server_request_duration_seconds${suffix}`);
const reset = shop.truth.counterResets[0]!;

describe("demo metrics", () => {
  it("uses Prometheus names and label names, with modest cardinality", () => {
    for (const s of series) {
      expect(s.name).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/);
      for (const k of Object.keys(s.labels)) expect(k).toMatch(/^[a-zA-Z_][a-zA-Z0-9_]*$/);
    }
    expect(new Set(counters.map((s) => s.labels.status))).toEqual(
      new Set(["200", "201", "400", "404", "500", "503"]),
    );
    expect(series.length).toBeLessThan(400);
  });

  it("has one sample per step plus the zero at the start, for every series", () => {
    const steps = (shop.truth.end - shop.truth.start) / (shop.truth.stepSeconds * 1000);
    for (const s of series) {
      expect(s.samples.length).toBe(steps + 1);
      expect(s.samples[0]).toEqual({ time: shop.truth.start, value: 0 });
      expect(s.samples.at(-1)!.time).toBe(shop.truth.end);
    }
  });

  it("keeps counters monotonic except for the one documented restart of inventory", () => {
    for (const s of [...counters, ...byName("_bucket"), ...byName("_sum"), ...byName("_count")]) {
      const drops = [];
      for (let i = 1; i < s.samples.length; i++) {
        if (s.samples[i]!.value < s.samples[i - 1]!.value) drops.push(s.samples[i]!.time);
      }
      if (s.labels.service === reset.service) {
        // Every inventory series restarts at the restart step (the rare all-zero series cannot drop).
        expect(drops.length).toBeLessThanOrEqual(1);
        for (const t of drops) expect(t).toBe(reset.time + shop.truth.stepSeconds * 1000);
      } else expect(drops).toEqual([]);
    }
    const inventoryTotal = counters.find(
      (s) =>
        s.labels.service === "inventory" && s.labels.route === "/products/{id}" && s.labels.status === "200",
    )!;
    const at = inventoryTotal.samples.findIndex((x) => x.time > reset.time);
    expect(inventoryTotal.samples[at]!.value).toBeLessThan(inventoryTotal.samples[at - 1]!.value);
  });

  it("has cumulative histogram buckets whose +Inf equals _count and the counters' total", () => {
    const buckets = byName("_bucket");
    for (const count of byName("_count")) {
      const key = journeyKey(count.labels);
      const mine = buckets.filter((b) => journeyKey(b.labels) === key);
      expect(mine.map((b) => b.labels.le)).toEqual([...DURATION_BUCKETS.map(String), "+Inf"]);
      const requests = counters.filter((c) => journeyKey(c.labels) === key);
      const problems: string[] = [];
      for (let i = 0; i < count.samples.length; i++) {
        for (let b = 1; b < mine.length; b++) {
          if (mine[b]!.samples[i]!.value < mine[b - 1]!.samples[i]!.value)
            problems.push(`${key} le ${b} at ${i}`);
        }
        if (mine.at(-1)!.samples[i]!.value !== count.samples[i]!.value)
          problems.push(`${key} +Inf != _count at ${i}`);
        if (requests.reduce((s, r) => s + r.samples[i]!.value, 0) !== count.samples[i]!.value) {
          problems.push(`${key} Σ requests_total != _count at ${i}`);
        }
      }
      expect(problems).toEqual([]);
    }
  });

  it("follows a daily cycle: the busiest hour sees several times the quietest", () => {
    const s = counters.find(
      (c) =>
        c.labels.service === "frontend" && c.labels.route === "/products/{id}" && c.labels.status === "200",
    )!;
    const hourly: number[] = [];
    for (let h = 0; h < 72; h++) {
      hourly.push(
        increaseBetween(s.samples, shop.truth.start + h * 3_600_000, shop.truth.start + (h + 1) * 3_600_000),
      );
    }
    expect(Math.max(...hourly)).toBeGreaterThan(3 * Math.min(...hourly));
  });
});

describe("demo truth against the emitted counters", () => {
  it("reports, for every journey with metrics, exactly the good/total recomputed from the counters", () => {
    const withMetrics = Object.values(shop.truth.journeys).filter((j) => j.hasMetrics);
    expect(withMetrics.length).toBeGreaterThanOrEqual(10);
    for (const j of withMetrics) {
      const mine = counters.filter((c) => journeyKey(c.labels) === j.key);
      const total = mine.reduce((s, c) => s + increase(c.samples), 0);
      const bad = mine
        .filter((c) => c.labels.status!.startsWith("5"))
        .reduce((s, c) => s + increase(c.samples), 0);
      const fourxx = mine
        .filter((c) => c.labels.status!.startsWith("4"))
        .reduce((s, c) => s + increase(c.samples), 0);
      expect(total).toBe(j.total);
      expect(bad).toBe(j.serverErrors);
      expect(fourxx).toBe(j.clientErrors);
      expect((total - bad) / total).toBe(j.availability);
      // Told to the generator; realized to the request.
      expect(Math.abs(j.availability - j.targetAvailability)).toBeLessThanOrEqual(1 / j.total);
    }
  });

  it("counts 4xx as good: journeys with client errors still meet their target", () => {
    const j = shop.truth.journeys["checkout POST /checkout"]!;
    expect(j.clientErrors).toBeGreaterThan(j.serverErrors);
    expect(j.good).toBe(j.total - j.serverErrors);
  });

  it("reports latency ratios equal to the summed bucket counters", () => {
    for (const j of Object.values(shop.truth.journeys).filter((x) => x.hasMetrics)) {
      const mine = byName("_bucket").filter((b) => journeyKey(b.labels) === j.key);
      const inf = increase(mine.find((b) => b.labels.le === "+Inf")!.samples);
      for (const b of mine) {
        if (b.labels.le === "+Inf") continue;
        expect(increase(b.samples) / inf).toBe(j.latencyGoodRatioByLe[b.labels.le!]);
      }
      expect(j.latencyGoodRatioByLe[String(j.latencyP95BucketSeconds)]).toBeGreaterThanOrEqual(0.95);
    }
  });

  it("shows the payment incident in the counters: checkout's 5xx rate jumps inside its window", () => {
    const inc = shop.truth.incidents.find((i) => i.id === "payment-psp-outage")!;
    const checkout = counters.filter((c) => journeyKey(c.labels) === "checkout POST /checkout");
    const rate = (from: number, to: number) => {
      const all = checkout.reduce((s, c) => s + increaseBetween(c.samples, from, to), 0);
      const bad = checkout
        .filter((c) => c.labels.status!.startsWith("5"))
        .reduce((s, c) => s + increaseBetween(c.samples, from, to), 0);
      return bad / all;
    };
    const inside = rate(inc.start, inc.end);
    const before = rate(shop.truth.start, inc.start);
    const after = rate(inc.end, shop.truth.end);
    // On 3 days the incident spends 60% of a 3-day budget: a few percent of requests fail inside it.
    expect(inside).toBeGreaterThan(0.02);
    expect(inside).toBeGreaterThan(8 * Math.max(before, after));
    const j = shop.truth.journeys["checkout POST /checkout"]!;
    expect(j.topBudgetConsumer?.incident).toBe("payment-psp-outage");
    expect(j.errorsByIncident["payment-psp-outage"]).toBeGreaterThan(0);
  });

  it("reports each incident window's requests and 5xx as the counters show them", () => {
    for (const j of Object.values(shop.truth.journeys).filter((x) => x.hasMetrics)) {
      const mine = counters.filter((c) => journeyKey(c.labels) === j.key);
      for (const inc of shop.truth.incidents) {
        const w = j.incidentWindows[inc.id]!;
        expect(mine.reduce((s, c) => s + increaseBetween(c.samples, inc.start, inc.end), 0)).toBe(w.total);
        const bad = mine.filter((c) => c.labels.status!.startsWith("5"));
        expect(bad.reduce((s, c) => s + increaseBetween(c.samples, inc.start, inc.end), 0)).toBe(
          w.serverErrors,
        );
      }
    }
    const slow =
      shop.truth.journeys["inventory POST /stock/reserve"]!.incidentWindows["inventory-slow-reserve"]!;
    // Whole period: >= 95% under the p95 bucket by definition; inside the slow window far fewer.
    expect(slow.latencyGoodRatioAtP95Bucket).toBeLessThan(0.85);
  });

  it("makes the payment incident the window that burns most of checkout's budget", () => {
    const inc = shop.truth.incidents.find((i) => i.id === "payment-psp-outage")!;
    const bad = counters.filter(
      (c) => journeyKey(c.labels) === "checkout POST /checkout" && c.labels.status!.startsWith("5"),
    );
    const width = inc.end - inc.start;
    let best = { from: 0, errors: -1 };
    for (let from = shop.truth.start; from + width <= shop.truth.end; from += 3_600_000 / 4) {
      const errors = bad.reduce((s, c) => s + increaseBetween(c.samples, from, from + width), 0);
      if (errors > best.errors) best = { from, errors };
    }
    expect(best.from + width).toBeGreaterThan(inc.start);
    expect(best.from).toBeLessThan(inc.end);
  });

  it("shows the slow inventory endpoint in its histogram and in checkout's", () => {
    const inc = shop.truth.incidents.find((i) => i.id === "inventory-slow-reserve")!;
    const share = (key: string, le: string, from: number, to: number) => {
      const mine = byName("_bucket").filter((b) => journeyKey(b.labels) === key);
      const under = increaseBetween(mine.find((b) => b.labels.le === le)!.samples, from, to);
      return under / increaseBetween(mine.find((b) => b.labels.le === "+Inf")!.samples, from, to);
    };
    const mid = (inc.start + inc.end) / 2;
    const quarter = (inc.end - inc.start) / 4;
    const during = share("inventory POST /stock/reserve", "0.1", mid - quarter, mid + quarter);
    const before = share("inventory POST /stock/reserve", "0.1", shop.truth.start, inc.start);
    expect(before).toBeGreaterThan(0.95);
    expect(during).toBeLessThan(0.5);
    expect(share("checkout POST /checkout", "0.5", mid - quarter, mid + quarter)).toBeLessThan(
      share("checkout POST /checkout", "0.5", shop.truth.start, inc.start),
    );
  });
});
