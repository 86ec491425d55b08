import { describe, expect, it } from "vitest";
import { bucketQuantile, MemorySource, queryRange } from "../../src/promql/index.js";
import type { EvalOptions, Labels, RawSeries } from "../../src/promql/types.js";

/** Hand-computed expectations that follow Prometheus's promql/functions.go and engine.go step by step. */

const S = 1000;
const series = (labels: Labels, points: [number, number][]): RawSeries => ({
  labels,
  timestamps: points.map((p) => p[0] * S),
  values: points.map((p) => p[1]),
});

/** The result of `query` at one instant `tsSec`, keyed by rendered labels. */
async function at(query: string, tsSec: number, data: RawSeries[], options?: EvalOptions) {
  const r = await queryRange(new MemorySource(data), query, tsSec * S, tsSec * S, 60 * S, options);
  const out: Record<string, number> = {};
  for (const s of r.series) {
    if (s.present[0]) out[JSON.stringify(s.labels)] = s.values[0]!;
  }
  return out;
}

const one = async (query: string, tsSec: number, data: RawSeries[], options?: EvalOptions) => {
  const r = Object.values(await at(query, tsSec, data, options));
  expect(r).toHaveLength(1);
  return r[0]!;
};

describe("rate and increase (extrapolatedRate)", () => {
  // A reset between t=120 and t=180: the 120 seen before it is added back.
  const resetting = [
    series({ __name__: "x_total" }, [
      [0, 0],
      [60, 60],
      [120, 120],
      [180, 10],
      [240, 70],
    ]),
  ];

  it("v3: the left-open window drops the sample on its start; counter reset and extrapolation to both ends", async () => {
    // Samples 60..240, increase 70-60+120 = 130, extrapolated by (180+60+60)/180.
    expect(await one("increase(x_total[5m])", 300, resetting)).toBeCloseTo(130 * (300 / 180), 10);
    expect(await one("rate(x_total[5m])", 300, resetting)).toBeCloseTo((130 * (300 / 180)) / 300, 12);
  });

  it("v2: the closed window keeps the sample on its start", async () => {
    // Samples 0..240, increase 70-0+120 = 190, extrapolated by (240+0+60)/240.
    expect(await one("increase(x_total[5m])", 300, resetting, { compat: "v2" })).toBeCloseTo(237.5, 10);
  });

  it("extrapolates only half an interval past a gap at either end and never below zero", async () => {
    // First sample 100 s after the window start (more than 1.1 × the 60 s spacing); last 80 s before its end.
    const late = [
      series({ __name__: "x_total" }, [
        [100, 25],
        [160, 55],
        [220, 85],
      ]),
    ];
    // v3: start → 30 s (half the spacing), then the zero point (50 s away) does not shorten it: (120+30+30)/120.
    expect(await one("increase(x_total[5m])", 300, late)).toBeCloseTo(60 * 1.5, 10);
    // v2 clamps to the zero point first (50 s), which is under the threshold, so it keeps 50 s: (120+50+30)/120.
    expect(await one("increase(x_total[5m])", 300, late, { compat: "v2" })).toBeCloseTo(100, 10);
    // Starting at 3 with slope 0.5/s, zero is 6 s before the first sample.
    const fromZero = [
      series({ __name__: "x_total" }, [
        [100, 3],
        [160, 33],
        [220, 63],
      ]),
    ];
    expect(await one("increase(x_total[5m])", 300, fromZero)).toBeCloseTo((60 * (120 + 6 + 30)) / 120, 10);
  });

  it("returns nothing from fewer than two samples, and delta does not treat drops as resets", async () => {
    const single = [series({ __name__: "x_total" }, [[250, 5]])];
    expect(await at("rate(x_total[5m])", 300, single)).toEqual({});
    const gauge = [
      series({ __name__: "g" }, [
        [60, 10],
        [120, 4],
        [180, 7],
        [240, 1],
      ]),
    ];
    // delta: 1 - 10 = -9 over 180 s, extrapolated to (180+60+60)/180; no zero-point clamp for gauges.
    expect(await one("delta(g[5m])", 300, gauge)).toBeCloseTo(-9 * (300 / 180), 10);
    // irate: last two samples, 1 < 7 is a reset for a counter, so the last value counts.
    expect(await one("irate(g[5m])", 300, gauge)).toBeCloseTo(1 / 60, 12);
    expect(await one("idelta(g[5m])", 300, gauge)).toBe(-6);
  });

  it("drops the metric name and applies offset to the window", async () => {
    const r = await at("rate(x_total[2m] offset 1m)", 300, resetting);
    // Window (120, 240]: samples 180 and 240 (+60). The 60 s start gap is under the 66 s threshold, but the
    // counter would reach zero 10 s before 180, so it extrapolates 10 s back and 0 s forward.
    expect(Object.keys(r)).toEqual(["{}"]);
    expect(r["{}"]).toBeCloseTo((60 * ((60 + 10 + 0) / 60)) / 120, 12);
  });
});

describe("instant selectors and matchers", () => {
  const data = [
    series({ __name__: "m", a: "b" }, [[0, 1]]),
    series({ __name__: "m", a: "bb" }, [[0, 2]]),
    series({ __name__: "m" }, [[0, 3]]),
  ];

  it("looks back 5 minutes, left-open in v3 and closed in v2", async () => {
    expect(Object.keys(await at("m", 299, data))).toHaveLength(3);
    expect(await at("m", 300, data)).toEqual({});
    expect(Object.keys(await at("m", 300, data, { compat: "v2" }))).toHaveLength(3);
    expect(await at("m", 301, data, { compat: "v2" })).toEqual({});
    expect(Object.keys(await at("m", 100, data, { lookbackDeltaMs: 60_000 }))).toHaveLength(0);
  });

  it("anchors regexes and treats a missing label as empty", async () => {
    const vals = async (q: string) => Object.values(await at(q, 10, data)).sort();
    expect(await vals('m{a=~"b"}')).toEqual([1]);
    expect(await vals('m{a=~"b+"}')).toEqual([1, 2]);
    expect(await vals('m{a!~"b"}')).toEqual([2, 3]);
    expect(await vals('m{a!="b"}')).toEqual([2, 3]);
    expect(await vals('m{a=""}')).toEqual([3]);
    expect(await vals('m{a!=""}')).toEqual([1, 2]);
    expect(await vals('{__name__="m", a="bb"}')).toEqual([2]);
  });
});

describe("aggregations", () => {
  const data = [
    series({ __name__: "r", job: "a", code: "200" }, [[0, 4]]),
    series({ __name__: "r", job: "a", code: "500" }, [[0, 1]]),
    series({ __name__: "r", job: "b", code: "200" }, [[0, 10]]),
    series({ __name__: "r", job: "b", code: "500" }, [[0, Number.NaN]]),
  ];

  it("groups by and without, dropping the metric name", async () => {
    expect(await at("sum by (job) (r)", 10, data)).toEqual({ '{"job":"a"}': 5, '{"job":"b"}': Number.NaN });
    expect(await at("sum without (job) (r)", 10, data)).toEqual({
      '{"code":"200"}': 14,
      '{"code":"500"}': Number.NaN,
    });
    expect(await at("count(r)", 10, data)).toEqual({ "{}": 4 });
    expect(await at('avg by (code) (r{job="a"} or r{code="200"})', 10, data)).toEqual({
      '{"code":"200"}': 7,
      '{"code":"500"}': 1,
    });
    // max/min skip NaN unless every value is NaN.
    expect(await at("max by (job) (r)", 10, data)).toEqual({ '{"job":"a"}': 4, '{"job":"b"}': 10 });
    expect(await at('min(r{code="500"})', 10, data)).toEqual({ "{}": 1 });
    expect(await at("group by (job) (r)", 10, data)).toEqual({ '{"job":"a"}': 1, '{"job":"b"}': 1 });
  });
});

describe("binary operators", () => {
  const data = [
    series({ __name__: "err", job: "a", code: "500" }, [[0, 2]]),
    series({ __name__: "err", job: "b", code: "500" }, [[0, 3]]),
    series({ __name__: "tot", job: "a", code: "all" }, [[0, 10]]),
    series({ __name__: "tot", job: "b", code: "all" }, [[0, 30]]),
    series({ __name__: "info", job: "a", team: "pay" }, [[0, 1]]),
    series({ __name__: "info", job: "b", team: "cart" }, [[0, 1]]),
  ];

  it("matches one-to-one on the listed labels, or ignoring them", async () => {
    expect(await at("err / on(job) tot", 10, data)).toEqual({ '{"job":"a"}': 0.2, '{"job":"b"}': 0.1 });
    expect(await at("err / ignoring(code) tot", 10, data)).toEqual({
      '{"job":"a"}': 0.2,
      '{"job":"b"}': 0.1,
    });
    // Without a modifier the code labels differ, so nothing matches.
    expect(await at("err / tot", 10, data)).toEqual({});
  });

  it("joins extra labels from the one side with group_left", async () => {
    expect(await at("err * on(job) group_left(team) info", 10, data)).toEqual({
      '{"job":"a","code":"500","team":"pay"}': 2,
      '{"job":"b","code":"500","team":"cart"}': 3,
    });
  });

  it("refuses many-to-many and implicit many-to-one matches", async () => {
    await expect(at("tot / on() err", 10, data)).rejects.toThrow(/many-to-many|duplicate series/);
    await expect(at("sum(tot) / on() group_left err", 10, data)).rejects.toThrow(/duplicate series/);
  });

  it("filters with comparisons, keeps the name, and returns 0/1 with bool", async () => {
    expect(await at("tot > 15", 10, data)).toEqual({ '{"__name__":"tot","job":"b","code":"all"}': 30 });
    expect(await at("tot > bool 15", 10, data)).toEqual({
      '{"job":"a","code":"all"}': 0,
      '{"job":"b","code":"all"}': 1,
    });
    // A scalar on the left still returns the vector's value.
    expect(await at("15 < tot", 10, data)).toEqual({ '{"__name__":"tot","job":"b","code":"all"}': 30 });
    // 2 > 10/10 holds for job a; 3 > 30/10 does not for job b.
    expect(await at("err > on(job) (tot / 10)", 10, data)).toEqual({ '{"job":"a"}': 2 });
    await expect(at("1 > 2", 10, data)).rejects.toThrow(/bool/);
    expect(await one("1 < bool 2", 10, data)).toBe(1);
  });

  it("follows arithmetic precedence and associativity", async () => {
    expect(await one("2 + 3 * 4 ^ 2 ^ 0.5 - 10 % 4", 10, data)).toBeCloseTo(2 + 3 * 4 ** (2 ** 0.5) - 2, 10);
    expect(await at("-err", 10, data)).toEqual({
      '{"job":"a","code":"500"}': -2,
      '{"job":"b","code":"500"}': -3,
    });
  });

  it("applies set operators per matching signature", async () => {
    expect(Object.values(await at('err and on(job) tot{job="a"}', 10, data))).toEqual([2]);
    expect(Object.values(await at('err unless on(job) tot{job="a"}', 10, data))).toEqual([3]);
    expect(Object.keys(await at('err or on(job) tot{job=~"a|c"}', 10, data))).toHaveLength(2);
    expect(await at("sum(nothing) or on() vector(0)", 10, data)).toEqual({ "{}": 0 });
  });
});

describe("functions", () => {
  const data = [
    series({ __name__: "g", i: "1" }, [
      [0, -2],
      [60, 4],
      [120, 1],
    ]),
    series({ __name__: "g", i: "2" }, [[0, 7]]),
  ];

  it("over_time functions, clamps, scalar/vector and absent", async () => {
    expect(await at('sum_over_time(g{i="1"}[5m])', 120, data)).toEqual({ '{"i":"1"}': 3 });
    expect(await at('avg_over_time(g{i="1"}[5m])', 120, data)).toEqual({ '{"i":"1"}': 1 });
    expect(await at('max_over_time(g{i="1"}[5m])', 120, data)).toEqual({ '{"i":"1"}': 4 });
    expect(await at('min_over_time(g{i="1"}[5m])', 120, data)).toEqual({ '{"i":"1"}': -2 });
    expect(await at("count_over_time(g[5m])", 120, data)).toEqual({ '{"i":"1"}': 3, '{"i":"2"}': 1 });
    expect(await at('last_over_time(g{i="1"}[5m])', 120, data)).toEqual({ '{"__name__":"g","i":"1"}': 1 });
    expect(await at("clamp_min(g, 2)", 120, data)).toEqual({ '{"i":"1"}': 2, '{"i":"2"}': 7 });
    expect(await at("clamp_max(g, 2)", 120, data)).toEqual({ '{"i":"1"}': 1, '{"i":"2"}': 2 });
    expect(await one("scalar(g)", 120, data)).toBeNaN();
    expect(await one('vector(scalar(g{i="2"}) * 2)', 120, data)).toBe(14);
    expect(await at('absent(g{i="3", j=~"x"})', 120, data)).toEqual({ '{"i":"3"}': 1 });
    expect(await at("absent(g)", 120, data)).toEqual({});
    expect(await at('label_replace(g{i="2"}, "k", "x-$1", "i", "(.)")', 120, data)).toEqual({
      '{"__name__":"g","i":"2","k":"x-2"}': 7,
    });
  });

  it("subqueries evaluate on a grid aligned to multiples of their step", async () => {
    const ramp = [
      series(
        { __name__: "c" },
        Array.from({ length: 30 }, (_, i) => [i * 60, i] as [number, number]),
      ),
    ];
    // At t=1000 s, [10m:5m] covers (400, 1000]: inner steps 600 and 900 (values 10 and 15 seen at 600/900 s).
    expect(await one("sum_over_time(c[10m:5m])", 1000, ramp)).toBe(25);
    expect(await one("count_over_time(c[10m:])", 1000, ramp)).toBe(10);
  });

  it("histogram_quantile interpolates inside the bucket, like bucketQuantile", () => {
    const b = (pairs: [number, number][]) => pairs.map(([upperBound, count]) => ({ upperBound, count }));
    const h = b([
      [0.1, 10],
      [0.5, 30],
      [1, 40],
      [Number.POSITIVE_INFINITY, 40],
    ]);
    expect(bucketQuantile(0.5, h)).toBeCloseTo(0.3, 12);
    expect(bucketQuantile(0.99, h)).toBeCloseTo(0.98, 12);
    expect(bucketQuantile(1, h)).toBe(1);
    // Everything above the last finite bound: that bound.
    expect(
      bucketQuantile(
        0.5,
        b([
          [0.1, 0],
          [Number.POSITIVE_INFINITY, 10],
        ]),
      ),
    ).toBe(0.1);
    // No +Inf bucket, or no observations: NaN; q outside [0, 1]: ±Inf.
    expect(
      bucketQuantile(
        0.5,
        b([
          [0.1, 1],
          [1, 2],
        ]),
      ),
    ).toBeNaN();
    expect(
      bucketQuantile(
        0.5,
        b([
          [0.1, 0],
          [Number.POSITIVE_INFINITY, 0],
        ]),
      ),
    ).toBeNaN();
    expect(bucketQuantile(1.5, h)).toBe(Number.POSITIVE_INFINITY);
    // Non-monotonic counts (scrape races) are forced monotonic: 8 counts as 10, so rank 12 falls 2/10 into (0.5, 1].
    expect(
      bucketQuantile(
        0.6,
        b([
          [0.1, 10],
          [0.5, 8],
          [1, 20],
          [Number.POSITIVE_INFINITY, 20],
        ]),
      ),
    ).toBeCloseTo(0.6, 12);
  });

  it("histogram_quantile groups buckets by their other labels", async () => {
    const buckets = ["0.1", "0.5", "1", "+Inf"].map((le, j) =>
      series({ __name__: "h_bucket", le, svc: "a" }, [[0, [10, 30, 40, 40][j]!]]),
    );
    expect(await at("histogram_quantile(0.5, h_bucket)", 10, buckets)).toEqual({
      '{"svc":"a"}': expect.closeTo(0.3, 12),
    });
  });
});

describe("errors", () => {
  it("names what is not supported or wrong", async () => {
    await expect(at("topk(1, g)", 0, [])).rejects.toThrow(/topk is not supported/);
    await expect(at("predict_linear(g[5m], 1)", 0, [])).rejects.toThrow(
      /predict_linear\(\) is not supported/,
    );
    await expect(at("rate(g[5m] @ 10)", 0, [])).rejects.toThrow(/@ modifier/);
    await expect(at("sum(rate(g[5m])", 0, [])).rejects.toThrow(/syntax error/);
    await expect(at("g[5m]", 0, [])).rejects.toThrow(/range vector/);
    await expect(at('{job="a"}', 0, [])).rejects.toThrow(/metric name/);
    await expect(queryRange(new MemorySource(), "1", 10, 0, 1)).rejects.toThrow(/before start/);
  });
});
