import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { dryRunEmbedded } from "../../src/generators/validate/dry-run.js";
import { StoreSource } from "../../src/history/store-source.js";
import { MemorySource, queryRange } from "../../src/promql/index.js";
import { insertSamples } from "../../src/store/repos/metric-samples.js";
import { checkoutSeries, DAY, T0 } from "../promql/synthetic.js";
import { availableEngines, type TestDb } from "../store/engines.js";

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
