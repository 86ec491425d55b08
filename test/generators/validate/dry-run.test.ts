import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  dryRun,
  dryRunEmbedded,
  dryRunPrometheus,
  expandRecordingRules,
  firingIntervals,
  type RangeQuerier,
  ratesPerPeriod,
} from "../../../src/generators/validate/dry-run.js";
import { Evaluator, MemorySource, parsePromql } from "../../../src/promql/index.js";
import type { RangeResult } from "../../../src/promql/types.js";
import { checkoutSeries, DAY, INCIDENTS, T0 } from "../../promql/synthetic.js";

const rules = parse(
  readFileSync(new URL("../../fixtures/promql/sloth-checkout.rules.yml", import.meta.url), "utf8"),
);
const MIN = 60_000;

function result(steps: number, present: number[], labels: Record<string, string> = {}): RangeResult {
  const p = new Uint8Array(steps);
  for (const k of present) p[k] = 1;
  return {
    timestamps: Array.from({ length: steps }, (_, k) => k * MIN),
    series: [{ labels, values: new Float64Array(steps), present: p }],
  };
}

describe("firingIntervals (Prometheus's alert state machine on the evaluation grid)", () => {
  it("stays pending until active for `for`, and resolves at the first inactive evaluation", () => {
    const r = result(10, [2, 3, 4, 5, 7], { __name__: "x", job: "a", severity: "low" });
    const got = firingIntervals(r, { alert: "A", labels: { severity: "page" }, forMs: 2 * MIN }, MIN);
    // Active from 2; 2 minutes later (step 4) it fires; step 6 resolves it. Step 7 alone only pends.
    expect(got).toEqual([
      { start: 4 * MIN, end: 6 * MIN, open: false, labels: { job: "a", severity: "page", alertname: "A" } },
    ]);
  });

  it("fires at once without `for`, keeps firing for keep_firing_for, and leaves a still-firing alert open", () => {
    const r = result(10, [1, 2, 4, 8, 9]);
    expect(
      firingIntervals(r, { alert: "A", labels: {}, forMs: 0 }, MIN).map((i) => [
        i.start / MIN,
        i.end / MIN,
        i.open,
      ]),
    ).toEqual([
      [1, 3, false],
      [4, 5, false],
      [8, 10, true],
    ]);
    const kept = firingIntervals(r, { alert: "A", labels: {}, forMs: 0, keepFiringForMs: 2 * MIN }, MIN);
    // The 1-step gap at 3 is bridged; after 4 it keeps firing through 5 and 6 and resolves at 7.
    expect(kept.map((i) => [i.start / MIN, i.end / MIN])).toEqual([
      [1, 7],
      [8, 10],
    ]);
  });

  it("tracks each label set as its own alert instance", () => {
    const r: RangeResult = {
      timestamps: [0, MIN, 2 * MIN],
      series: [
        { labels: { slo: "a" }, values: new Float64Array(3), present: Uint8Array.from([1, 1, 0]) },
        { labels: { slo: "b" }, values: new Float64Array(3), present: Uint8Array.from([0, 1, 1]) },
      ],
    };
    const got = firingIntervals(r, { alert: "A", labels: {}, forMs: MIN }, MIN);
    expect(got.map((i) => [i.labels.slo, i.start / MIN, i.end / MIN, i.open])).toEqual([
      ["a", 1, 2, false],
      ["b", 2, 3, true],
    ]);
  });
});

describe("embedded dry-run of Sloth-style rules", () => {
  const source = new MemorySource(checkoutSeries(4));
  const window = { startMs: T0 + DAY, endMs: T0 + 4 * DAY };

  it("pages for the fast burst, tickets for the slow burn, and stays quiet across a counter reset", async () => {
    const report = await dryRunEmbedded(rules, source, window);
    expect(report.mode).toBe("embedded");
    const [page, ticket] = report.alerts;
    expect(page?.ruleLabels.sloth_severity).toBe("page");
    expect(ticket?.ruleLabels.sloth_severity).toBe("ticket");
    const burst = page!.intervals[0]!;
    expect(burst.start).toBeGreaterThanOrEqual(INCIDENTS.fastBurst.start);
    expect(burst.start).toBeLessThan(INCIDENTS.fastBurst.start + 5 * MIN);
    expect(burst.labels).toMatchObject({
      alertname: "CheckoutHighErrorRate",
      sloth_slo: "requests-availability",
    });
    expect(burst.labels.sloth_window).toBeUndefined();
    // Nothing before the first incident, nothing set off by the restart.
    const all = [...page!.intervals, ...ticket!.intervals];
    expect(all.every((i) => i.start >= INCIDENTS.fastBurst.start)).toBe(true);
    expect(all.some((i) => i.start >= INCIDENTS.restart && i.start < INCIDENTS.restart + 6 * 3_600_000)).toBe(
      false,
    );
    // The slow burn (8x the budget rate) trips the 6x page after hours, and the ticket too.
    expect(
      page!.intervals.some((i) => i.start > INCIDENTS.slowBurn.start && i.start < INCIDENTS.slowBurn.end),
    ).toBe(true);
    expect(
      ticket!.intervals.some((i) => i.start > INCIDENTS.slowBurn.start && i.start < INCIDENTS.slowBurn.end),
    ).toBe(true);
    for (const a of report.alerts) {
      expect(a.firings).toBe(a.intervals.length);
      expect(a.firingMs).toBe(a.intervals.reduce((s, i) => s + i.end - i.start, 0));
    }
  });

  it("scales firings to a policy period", async () => {
    const report = await dryRunEmbedded(rules, source, window);
    const rates = ratesPerPeriod(report);
    // Three days replayed: a 28-day month sees 28/3 times as many.
    expect(rates[0]!.firingsPerPeriod).toBeCloseTo((report.alerts[0]!.firings * 28) / 3, 9);
    expect(rates[1]!.firingMsPerPeriod).toBeCloseTo((report.alerts[1]!.firingMs * 28) / 3, 3);
    expect(() => ratesPerPeriod({ ...report, end: report.start })).toThrow(/no time/);
  });

  it("replays only the named alerts and the recording rules they need", async () => {
    const report = await dryRunEmbedded(rules, source, { ...window, alerts: ["CheckoutHighErrorRate"] });
    expect(report.alerts).toHaveLength(2);
    await expect(dryRunEmbedded(rules, source, { ...window, alerts: ["Nope"] })).rejects.toThrow(
      /no alert rule named Nope/,
    );
  });

  it("inline expansion of recording rules gives the same intervals as replaying the rules", async () => {
    // The embedded evaluator answering the expanded queries stands in for a Prometheus without the rules.
    const evaluator = new Evaluator(source);
    const querier: RangeQuerier = { queryRange: (q, s, e, st) => evaluator.queryRange(q, s, e, st) };
    const [replayed, inlined] = await Promise.all([
      dryRunEmbedded(rules, source, window),
      dryRunPrometheus(rules, querier, window),
    ]);
    expect(inlined.mode).toBe("prometheus");
    expect(inlined.alerts[0]!.evaluatedExpr).toContain("label_replace(");
    expect(inlined.alerts.map((a) => a.intervals)).toEqual(replayed.alerts.map((a) => a.intervals));
    expect(inlined.alerts[0]!.intervals.length).toBeGreaterThan(0);
  });

  it("expands a range over a recorded series into a subquery at the rule's interval and reads enough history", async () => {
    const periodRules = {
      groups: [
        ...rules.groups.slice(0, 1),
        {
          name: "period",
          rules: [
            {
              alert: "BudgetBurnt",
              expr: 'slo:sli_error:ratio_rate30d{sloth_id="checkout-requests-availability"} > 0.0015',
              labels: { severity: "ticket" },
            },
          ],
        },
      ],
    };
    const expanded = expandRecordingRules(periodRules.groups[1]!.rules[0]!.expr, periodRules);
    expect(expanded).toContain("[30d:1m]");
    expect(() => parsePromql(expanded)).not.toThrow();
    const evaluator = new Evaluator(source);
    const querier: RangeQuerier = { queryRange: (q, s, e, st) => evaluator.queryRange(q, s, e, st) };
    const opts = { startMs: T0 + 2 * DAY, endMs: T0 + 4 * DAY };
    const [replayed, inlined] = await Promise.all([
      dryRunEmbedded(periodRules, source, opts),
      dryRunPrometheus(periodRules, querier, opts),
    ]);
    expect(replayed.alerts[0]!.intervals.length).toBeGreaterThan(0);
    expect(inlined.alerts[0]!.intervals).toEqual(replayed.alerts[0]!.intervals);
  });
});

describe("dry-run input errors", () => {
  const source = new MemorySource();
  const window = { startMs: 0, endMs: 3_600_000 };
  const file = (rulesList: unknown[]) => ({ groups: [{ name: "g", rules: rulesList }] });

  it("rejects malformed rule files and bad PromQL with the group and rule named", async () => {
    await expect(dryRunEmbedded({ groups: [{ name: "g" }] }, source, window)).rejects.toThrow(
      /invalid rule file at groups.0.rules/,
    );
    await expect(
      dryRunEmbedded(file([{ record: "a", alert: "b", expr: "1" }]), source, window),
    ).rejects.toThrow(/exactly one of `record` or `alert`/);
    await expect(dryRunEmbedded(file([{ alert: "A", expr: "sum(" }]), source, window)).rejects.toThrow(
      /group g, rule A: syntax error/,
    );
    await expect(
      dryRunEmbedded(file([{ alert: "A", expr: "1", for: "300" }]), source, window),
    ).rejects.toThrow(/invalid rule file at groups.0.rules.0.for: invalid duration "300"/);
    await expect(dryRun(file([]), window)).rejects.toThrow(/source.*or a Prometheus URL/);
  });

  it("detects recording rules that depend on each other in a cycle", async () => {
    const cyclic = file([
      { record: "a:x", expr: "b:x + 1" },
      { record: "b:x", expr: "a:x + 1" },
      { alert: "A", expr: "a:x > 0" },
    ]);
    await expect(dryRunEmbedded(cyclic, source, window)).rejects.toThrow(/cycle: a:x -> b:x -> a:x/);
  });

  it("refuses to inline a reference whose matchers the rule's labels cannot settle", () => {
    const f = file([
      { record: "job:x", expr: "sum by (job) (x)" },
      { alert: "A", expr: 'job:x{job="a"} > 0' },
    ]);
    expect(() => expandRecordingRules('job:x{job="a"} > 0', f)).toThrow(/matcher on job is not fixed/);
  });
});
