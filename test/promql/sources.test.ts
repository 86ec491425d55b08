import { readFileSync } from "node:fs";
import nock from "nock";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { dryRunEmbedded } from "../../src/generators/validate/dry-run.js";
import { MemorySource, PrometheusClient, queryRange, StoreSource } from "../../src/promql/index.js";
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

const rules = parse(
  readFileSync(new URL("../fixtures/promql/sloth-checkout.rules.yml", import.meta.url), "utf8"),
);

for (const engine of await availableEngines()) {
  describe(`StoreSource on ${engine.name}`, () => {
    let db: TestDb;
    const series = checkoutSeries(2);
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
      const window = [T0 + DAY, T0 + 2 * DAY - 1, 300_000] as const;
      expect(await queryRange(store, q, ...window)).toEqual(await queryRange(memory, q, ...window));
      const opts = { startMs: T0 + DAY, endMs: T0 + 2 * DAY };
      const [fromStore, fromMemory] = await Promise.all([
        dryRunEmbedded(rules, store, opts),
        dryRunEmbedded(rules, memory, opts),
      ]);
      expect(fromStore.alerts[0]!.intervals.length).toBeGreaterThan(0);
      expect(fromStore).toEqual(fromMemory);
    }, 60_000);
  });
}

describe("PrometheusClient", () => {
  const url = "http://prometheus.test:9090";
  afterEach(() => {
    nock.cleanAll();
  });

  it("splits long ranges under Prometheus's 11,000-point limit and reassembles the series", async () => {
    const steps = 15_000;
    const bodies: URLSearchParams[] = [];
    nock(url)
      .post("/api/v1/query_range")
      .times(2)
      .reply(200, (_uri, body) => {
        const p = new URLSearchParams(body as string);
        bodies.push(p);
        const start = Number(p.get("start"));
        return {
          status: "success",
          data: {
            resultType: "matrix",
            result: [
              {
                metric: { job: "a" },
                values: [
                  [start, "1.5"],
                  [Number(p.get("end")), "+Inf"],
                ],
              },
            ],
          },
        };
      });
    const r = await new PrometheusClient(url).queryRange("up", 0, (steps - 1) * 1000, 1000);
    expect(bodies.map((b) => [b.get("start"), b.get("end"), b.get("step")])).toEqual([
      ["0", "9999", "1"],
      ["10000", "14999", "1"],
    ]);
    expect(r.series).toHaveLength(1);
    const s = r.series[0]!;
    expect([0, 9999, 10000, 14999].map((k) => [s.present[k], s.values[k]])).toEqual([
      [1, 1.5],
      [1, Number.POSITIVE_INFINITY],
      [1, 1.5],
      [1, Number.POSITIVE_INFINITY],
    ]);
    expect(s.present.reduce((a, b) => a + b, 0)).toBe(4);
  });

  it("reports Prometheus's own error, and an unreachable server, clearly", async () => {
    nock(url)
      .post("/api/v1/query_range")
      .reply(400, { status: "error", errorType: "bad_data", error: 'parse error: unexpected "}"' });
    await expect(new PrometheusClient(url).queryRange("up}", 0, 1000, 1000)).rejects.toThrow(
      /bad_data.*parse error/,
    );
    await expect(new PrometheusClient("http://127.0.0.1:1", { timeoutMs: 2000 }).version()).rejects.toThrow(
      /did not answer/,
    );
  });
});
