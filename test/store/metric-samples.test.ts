import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { latestSampleTime } from "../../src/analysis/history-source.js";
import type { MetricSeries } from "../../src/core/telemetry.js";
import type { Sql } from "../../src/store/ports.js";
import {
  insertSamples,
  listMetricNames,
  listSeries,
  querySamples,
  seriesId,
} from "../../src/store/repos/metric-samples.js";
import { availableEngines, OPEN_TIMEOUT_MS, type TestDb } from "./engines.js";

const T0 = Date.UTC(2026, 0, 5);

function series(
  labels: Record<string, string>,
  points: [number, number][],
  name = "http_requests_total",
): MetricSeries {
  return { name, type: "counter", labels, samples: points.map(([time, value]) => ({ time, value })) };
}

for (const engine of await availableEngines()) {
  describe(`metric samples on ${engine.name}`, () => {
    let db: TestDb;
    let sql: Sql;
    beforeAll(async () => {
      db = await engine.open();
      sql = db.sql;
      await insertSamples(sql, [
        series({ service: "checkout", code: "200", route: "/pay" }, [
          [T0, 1],
          [T0 + 15_000, 5],
          [T0 + 30_000, 9],
        ]),
        series({ service: "checkout", code: "500", route: "/pay" }, [
          [T0, 0],
          [T0 + 15_000, 2],
        ]),
        series({ service: "cart", code: "200" }, [[T0, 3]]),
        series({ service: "checkout" }, [[T0, 0.25]], "process_cpu_seconds_total"),
      ]);
    }, OPEN_TIMEOUT_MS);
    afterAll(() => db?.drop());

    it("stores each sample once, so a retried batch inserts nothing", async () => {
      const retry = series({ service: "checkout", code: "200", route: "/pay" }, [
        [T0 + 15_000, 5],
        [T0 + 45_000, 12],
      ]);
      expect(await insertSamples(sql, [retry])).toBe(1);
      expect(await insertSamples(sql, [retry])).toBe(0);
      const [s] = await querySamples(sql, {
        name: "http_requests_total",
        matchers: [
          { name: "code", op: "=", value: "200" },
          { name: "service", op: "=", value: "checkout" },
        ],
        start: T0,
        end: T0 + 60_000,
      });
      expect(s?.samples).toEqual([
        { time: T0, value: 1 },
        { time: T0 + 15_000, value: 5 },
        { time: T0 + 30_000, value: 9 },
        { time: T0 + 45_000, value: 12 },
      ]);
      expect(s?.labels).toEqual({ service: "checkout", code: "200", route: "/pay" });
    });

    it("matches labels like PromQL: !=, anchored regexes, missing label as empty", async () => {
      const q = (matchers: { name: string; op: "=" | "!=" | "=~" | "!~"; value: string }[]) =>
        querySamples(sql, { name: "http_requests_total", matchers, start: T0, end: T0 + 60_000 }).then((r) =>
          r.map((s) => `${s.labels.service}/${s.labels.code}`).sort(),
        );
      expect(await q([{ name: "code", op: "=~", value: "5.." }])).toEqual(["checkout/500"]);
      expect(await q([{ name: "code", op: "=~", value: "5" }])).toEqual([]);
      expect(await q([{ name: "code", op: "!~", value: "5.." }])).toEqual(["cart/200", "checkout/200"]);
      expect(await q([{ name: "service", op: "!=", value: "checkout" }])).toEqual(["cart/200"]);
      expect(await q([{ name: "route", op: "=", value: "" }])).toEqual(["cart/200"]);
      expect(await q([{ name: "__name__", op: "=~", value: "http_.*" }])).toHaveLength(3);
    });

    it("keeps NaN and infinities, and bounds the time range inclusively", async () => {
      await insertSamples(sql, [
        series(
          { le: "+Inf" },
          [
            [T0, Number.NaN],
            [T0 + 1, Number.POSITIVE_INFINITY],
            [T0 + 2, -Infinity],
          ],
          "odd",
        ),
      ]);
      const [s] = await querySamples(sql, { name: "odd", start: T0 + 1, end: T0 + 2 });
      expect(s?.samples.map((p) => p.value)).toEqual([Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]);
      const [all] = await querySamples(sql, { name: "odd", start: T0, end: T0 });
      expect(Number.isNaN(all?.samples[0]?.value)).toBe(true);
    });

    it("keeps the first value of a sample given twice in one batch, and the newest time of every series", async () => {
      const twice = series({ service: "twice" }, [
        [T0 + 1_000, 7],
        [T0 + 1_000, 8],
      ]);
      const other = series({ service: "twice", code: "500" }, [[T0 + 90_000, 1]]);
      expect(await insertSamples(sql, [twice, other, twice])).toBe(2);
      const [s] = await querySamples(sql, {
        matchers: [
          { name: "service", op: "=", value: "twice" },
          { name: "code", op: "=", value: "" },
        ],
        start: T0,
        end: T0 + 2_000,
      });
      expect(s?.samples).toEqual([{ time: T0 + 1_000, value: 7 }]);
      expect(await latestSampleTime(sql)).toBe(T0 + 90_000);
    });

    it("offers only the series a memo does not know as stored, and tells which it offered", async () => {
      const known = series({ service: "memo", code: "200" }, [[T0, 1]]);
      const fresh = series({ service: "memo", code: "201" }, [[T0, 2]]);
      const memo = { known: new Set([seriesId(known.name, known.labels)]), offered: [] as string[] };
      await insertSamples(sql, [known, fresh], memo);
      expect(memo.offered).toEqual([seriesId(fresh.name, fresh.labels)]);
      // The known series' row was left out, so its sample is stored but not listed: the memo is trusted.
      const listed = await listSeries(sql, { matchers: [{ name: "service", op: "=", value: "memo" }] });
      expect(listed.map((l) => l.labels.code)).toEqual(["201"]);
    });

    it("lists series and names for discovery", async () => {
      expect(await listMetricNames(sql)).toEqual(["http_requests_total", "odd", "process_cpu_seconds_total"]);
      const cart = await listSeries(sql, { matchers: [{ name: "service", op: "=", value: "cart" }] });
      expect(cart).toEqual([{ name: "http_requests_total", labels: { service: "cart", code: "200" } }]);
    });

    it("identifies a series by name and labels regardless of label order", () => {
      expect(seriesId("m", { a: "1", b: "2" })).toBe(seriesId("m", { b: "2", a: "1" }));
      expect(seriesId("m", { a: "1" })).not.toBe(seriesId("n", { a: "1" }));
      expect(seriesId("m", { a: "1b" })).not.toBe(seriesId("m", { a: "1", b: "" }));
    });

    it("rejects an unknown matcher operator", async () => {
      await expect(
        // biome-ignore lint/suspicious/noExplicitAny: a caller outside TypeScript
        querySamples(sql, { matchers: [{ name: "a", op: "==" as any, value: "" }], start: 0, end: 1 }),
      ).rejects.toThrow(/unknown label matcher operator/);
    });
  });
}
