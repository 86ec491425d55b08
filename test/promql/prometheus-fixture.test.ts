import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { MemorySource, queryRange } from "../../src/promql/index.js";
import type { PromqlCompat, RangeResult } from "../../src/promql/types.js";
import { labelsKey } from "../../src/promql/types.js";
import { dataset } from "./dataset.js";

/**
 * The evaluator against answers recorded from a real Prometheus (see record-fixture.ts) on a dataset with
 * jittered scrapes, counter resets, late-starting and gappy series and histograms.
 */

interface Recorded {
  version: string;
  cases: {
    query: string;
    start: number;
    end: number;
    step: number;
    series: { labels: Record<string, string>; values: (string | null)[] }[];
  }[];
}

function parseValue(v: string): number {
  if (v === "+Inf") return Number.POSITIVE_INFINITY;
  if (v === "-Inf") return Number.NEGATIVE_INFINITY;
  return Number(v);
}

export function expectSameResult(mine: RangeResult, theirs: Recorded["cases"][number]): void {
  const byKey = new Map(mine.series.map((s) => [labelsKey(s.labels), s]));
  expect([...byKey.keys()].sort()).toEqual(theirs.series.map((s) => labelsKey(s.labels)).sort());
  for (const expected of theirs.series) {
    const got = byKey.get(labelsKey(expected.labels))!;
    expected.values.forEach((v, k) => {
      const where = `${theirs.query} ${JSON.stringify(expected.labels)} at step ${k}`;
      expect(got.present[k] === 1, where).toBe(v !== null);
      if (v === null) return;
      const want = parseValue(v);
      const have = got.values[k]!;
      if (Number.isNaN(want) || !Number.isFinite(want)) expect(have, where).toBe(want);
      else
        expect(Math.abs(have - want), `${where}: ${have} vs ${want}`).toBeLessThanOrEqual(
          1e-9 * Math.max(1, Math.abs(want)),
        );
    });
  }
}

const source = new MemorySource(dataset());

for (const file of ["prometheus-2.json"]) {
  const recorded: Recorded = JSON.parse(
    readFileSync(new URL(`../fixtures/promql/${file}`, import.meta.url), "utf8"),
  );
  const compat: PromqlCompat = recorded.version.startsWith("2.") ? "v2" : "v3";
  describe(`PromQL evaluation equals Prometheus ${recorded.version}`, () => {
    it.each(recorded.cases.map((c) => [c.query, c] as const))("%s", async (_q, c) => {
      const mine = await queryRange(source, c.query, c.start, c.end, c.step, { compat });
      expectSameResult(mine, c);
    });
  });
}
