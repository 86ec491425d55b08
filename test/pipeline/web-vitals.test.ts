import { describe, expect, it } from "vitest";
import { pageKey, vitalsOf, WebVitalAggregates } from "../../src/pipeline/web-vitals.js";

describe("web vitals", () => {
  it("reads Faro's web-vitals measurement values and ignores other measurements", () => {
    expect(
      vitalsOf({ type: "measurement", name: "web-vitals", values: { lcp: 1800, cls: 0.02, foo: 1 } }),
    ).toEqual([
      ["LCP", 1800],
      ["CLS", 0.02],
    ]);
    expect(vitalsOf({ type: "event", name: "click", values: { lcp: 1 } })).toEqual([]);
  });

  it("folds query strings and ids out of page keys", () => {
    expect(pageKey("https://shop.example/products/12345?ref=x")).toBe("/products/:id");
    expect(pageKey(undefined)).toBe("(unknown)");
    expect(pageKey("/products/{id}")).toBe("/products/{id}");
  });

  it("keeps one histogram per service, page and vital per hour, with the good threshold on a bound", () => {
    const agg = new WebVitalAggregates({ windowMs: 3_600_000, allowedLatenessMs: 0 });
    for (const lcp of [1200, 2500, 2600, 9000]) {
      agg.apply("frontend", 1000, {
        type: "measurement",
        name: "web-vitals",
        page: "/cart",
        values: { lcp },
      });
    }
    const [row] = agg.windows.takeChanges();
    const h = row!.state.histogram;
    const good = h.counts.slice(0, h.bounds.indexOf(2500) + 1).reduce((a, b) => a + b, 0);
    expect(row!.state).toMatchObject({ service: "frontend", page: "/cart", metric: "LCP", count: 4 });
    expect(good).toBe(2);
  });
});
