import { readFileSync } from "node:fs";
import nock from "nock";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { dryRunEmbedded } from "../../src/generators/validate/dry-run.js";
import type { LabelMatcher } from "../../src/promql/ast.js";
import {
  CachingSource,
  MemorySource,
  PrometheusQuerier,
  queryRange,
  StoreSource,
} from "../../src/promql/index.js";
import { insertSamples } from "../../src/store/repos/metric-samples.js";
import { availableEngines, type TestDb } from "../store/engines.js";
import { checkoutSeries, DAY, T0 } from "./synthetic.js";

describe("MemorySource", () => {
  it("sorts, merges and replaces samples, and selects an inclusive time range by matchers", async () => {
    const src = new MemorySource();
    src.add({ __name__: "x", a: "1" }, [30, 10, 20], [3, 1, 2]);
    src.add({ __name__: "x", a: "1" }, [20, 40], [22, 4]);
    src.add({ __name__: "x", a: "2" }, [10], [9]);
    const [s] = await src.select("x", [{ name: "a", op: "=", value: "1" }], 20, 40);
    expect(Array.from(s!.timestamps)).toEqual([20, 30, 40]);
    expect(Array.from(s!.values)).toEqual([22, 3, 4]);
    expect(await src.select("x", [], 41, 50)).toEqual([]);
    expect(await src.select("y", [], 0, 50)).toEqual([]);
    expect(() => src.add({ a: "1" }, [1], [1])).toThrow(/__name__/);
  });

  it("stores a rule's output with a staleness marker where a series disappears", async () => {
    const src = new MemorySource();
    src.addResult({
      timestamps: [0, 60_000, 120_000, 180_000],
      series: [
        {
          labels: { __name__: "r" },
          values: Float64Array.from([1, 2, 0, 0]),
          present: Uint8Array.from([1, 1, 0, 0]),
        },
      ],
    });
    const [s] = await src.select("r", [], 0, 1e9);
    expect(Array.from(s!.timestamps)).toEqual([0, 60_000, 120_000]);
    expect(Array.from(s!.stale!)).toEqual([0, 0, 1]);
    // Without the marker the 5-minute lookback would still see 2 at 150 s.
    const r = await queryRange(src, "r", 60_000, 180_000, 30_000);
    expect(Array.from(r.series[0]!.present)).toEqual([1, 1, 0, 0, 0]);
    // Range functions skip the marker rather than summing its NaN.
    const sum = await queryRange(src, "sum_over_time(r[5m])", 180_000, 180_000, 1);
    expect(sum.series[0]!.values[0]).toBe(3);
  });
});

describe("CachingSource", () => {
  it("fetches only the part of a wider range it has not read yet, and answers like its base", async () => {
    const base = new MemorySource();
    base.add({ __name__: "x", a: "1" }, [10, 60, 120, 180, 240, 300], [1, 2, 3, 4, 5, 6]);
    base.add({ __name__: "x", a: "2" }, [50, 250], [7, 8], [0, 1]);
    const calls: [number, number][] = [];
    const counting = {
      select: (name: string, m: LabelMatcher[], s: number, e: number) => {
        calls.push([s, e]);
        return base.select(name, m, s, e);
      },
    };
    const cached = new CachingSource(counting);
    for (const [s, e] of [
      [100, 200],
      [50, 200],
      [50, 300],
      [60, 250],
    ] as const) {
      const got = await cached.select("x", [], s, e);
      const want = await base.select("x", [], s, e);
      const plain = (rs: typeof got) =>
        rs
          .map((r) => [
            r.labels.a,
            Array.from(r.timestamps),
            Array.from(r.values),
            Array.from(r.stale ?? r.timestamps, (_x, i) => r.stale?.[i] ?? 0),
          ])
          .sort();
      expect(plain(got)).toEqual(plain(want));
    }
    expect(calls).toEqual([
      [100, 200],
      [50, 99],
      [201, 300],
    ]);
  });
});

const rules = parse(
  readFileSync(new URL("../fixtures/promql/sloth-checkout.rules.yml", import.meta.url), "utf8"),
);

for (const engine of await availableEngines()) {
  describe(`StoreSource on ${engine.name}`, () => {
    let db: TestDb;
    // Eight hours around the fast burst: PGlite inserts slowly, and both sources see the same samples anyway.
    const from = T0 + DAY + 6 * 3_600_000;
    const to = T0 + DAY + 14 * 3_600_000;
    const series = checkoutSeries(2).map((s) => {
      const keep = Array.from(s.timestamps, (t) => t >= from && t <= to);
      return {
        labels: s.labels,
        timestamps: Array.from(s.timestamps).filter((_t, i) => keep[i]),
        values: Array.from(s.values).filter((_v, i) => keep[i]),
      };
    });
    beforeAll(async () => {
      db = await engine.open();
      await insertSamples(
        db.sql,
        series.map((s) => {
          const { __name__, ...labels } = s.labels;
          return {
            name: __name__!,
            type: "counter" as const,
            labels,
            samples: Array.from(s.timestamps, (time, i) => ({ time, value: s.values[i]! })),
          };
        }),
      );
    }, 60_000);
    afterAll(async () => {
      await db?.drop();
    });

    it("answers queries and dry-runs exactly as the same samples in memory", async () => {
      const store = new StoreSource(db.sql);
      const memory = new MemorySource(series);
      const q = 'sum by (code) (increase(http_requests_total{job="checkout", code=~"5..|200"}[1h]))';
      const window = [from, to, 300_000] as const;
      expect(await queryRange(store, q, ...window)).toEqual(await queryRange(memory, q, ...window));
      const opts = { startMs: from + 2 * 3_600_000, endMs: to };
      const [fromStore, fromMemory] = await Promise.all([
        dryRunEmbedded(rules, store, opts),
        dryRunEmbedded(rules, memory, opts),
      ]);
      expect(fromStore.alerts[0]!.intervals.length).toBeGreaterThan(0);
      expect(fromStore).toEqual(fromMemory);
    }, 60_000);
  });
}

describe("PrometheusQuerier", () => {
  const url = "http://prometheus.test:9090";
  afterEach(() => {
    nock.cleanAll();
  });

  it("puts Prometheus's matrix on the query's step grid, with +Inf and missing steps", async () => {
    let sent: URLSearchParams | undefined;
    nock(url)
      .post("/api/v1/query_range")
      .reply(200, (_uri, body) => {
        sent = new URLSearchParams(body as string);
        return {
          status: "success",
          data: {
            resultType: "matrix",
            result: [
              {
                metric: { job: "a" },
                values: [
                  [60, "1.5"],
                  [180, "+Inf"],
                ],
              },
              { metric: { job: "b" }, values: [[120, "NaN"]] },
            ],
          },
        };
      });
    const r = await new PrometheusQuerier(url).queryRange("up", 60_000, 180_000, 60_000);
    expect([sent?.get("query"), sent?.get("start"), sent?.get("end"), sent?.get("step")]).toEqual([
      "up",
      "60",
      "180",
      "60",
    ]);
    expect(r.timestamps).toEqual([60_000, 120_000, 180_000]);
    const [a, b] = r.series;
    expect(a!.labels).toEqual({ job: "a" });
    expect(Array.from(a!.present)).toEqual([1, 0, 1]);
    expect([a!.values[0], a!.values[2]]).toEqual([1.5, Number.POSITIVE_INFINITY]);
    expect(Array.from(b!.present)).toEqual([0, 1, 0]);
    expect(b!.values[1]).toBeNaN();
  });

  it("passes Prometheus's own error on", async () => {
    nock(url)
      .post("/api/v1/query_range")
      .reply(400, { status: "error", errorType: "bad_data", error: 'parse error: unexpected "}"' });
    await expect(new PrometheusQuerier(url).queryRange("up}", 0, 1000, 1000)).rejects.toThrow(
      /bad_data.*parse error/,
    );
  });
});
