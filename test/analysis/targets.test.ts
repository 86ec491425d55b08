import { describe, expect, it } from "vitest";
import { backtest, WEB_VITAL_LADDER } from "../../src/analysis/backtest.js";
import { HistoryError } from "../../src/analysis/history.js";
import {
  chooseTarget,
  latencyHistoryFromCumulative,
  latencySli,
  latencySliHistory,
  latencyThreshold,
  mergeLatencyHistory,
  proposeTarget,
  recommendTarget,
  snapUpToBucket,
} from "../../src/analysis/targets.js";
import type { LatencyHistory } from "../../src/core/history.js";
import { errorBudgetOf } from "../../src/core/proposal.js";
import { START, synthHistory } from "./synthetic.js";

describe("target choice", () => {
  it("recommends the highest rung with <= 75% worst-window budget use and <= 2 pages, plus one rung each side", () => {
    // 0.02% bad: 99.95 uses ~40% of its budget, 99.99 ~200%.
    const { backtest: bt, choice } = recommendTarget(
      synthHistory({ days: 28, perStep: 1000, errorRate: 0.0002 }),
    );
    expect(choice.achievable).toBe(true);
    expect(choice.recommended).toBe(99.95);
    expect(choice.aspirational).toBe(99.99);
    expect(choice.safe).toBe(99.9);
    expect(choice.errorBudget).toBe(0.0005);
    const chosen = bt.ladder.find((r) => r.target === choice.recommended)!;
    expect(chosen.worstWindowBudgetUsed).toBeLessThanOrEqual(0.75);
    expect(chosen.worstWindowPages).toBeLessThanOrEqual(2);
    expect(choice.reasons.join(" ")).toMatch(/not 99\.99%: its worst window used \d+(\.\d)?% of the budget/);
  });

  it("steps down when a rung would page too often even though its budget holds", () => {
    // Five 10-minute spikes at 50% errors: little budget, but each one pages at 99.9 and 99.5.
    const incidents = [3, 8, 13, 18, 23].map((atDay) => ({ atDay, hours: 1 / 6, errorRate: 0.5 }));
    const { backtest: bt, choice } = recommendTarget(
      synthHistory({ days: 28, perStep: 1000, errorRate: 0.0001, incidents }),
    );
    const r999 = bt.ladder.find((r) => r.target === 99.9)!;
    expect(r999.worstWindowBudgetUsed).toBeLessThanOrEqual(0.75);
    expect(r999.pages).toBe(5);
    expect(choice.recommended).toBeLessThan(99.9);
    const chosen = bt.ladder.find((r) => r.target === choice.recommended)!;
    expect(chosen.worstWindowPages).toBeLessThanOrEqual(2);
    const above = bt.ladder.find((r) => r.target > choice.recommended)!;
    expect(above.worstWindowPages).toBeGreaterThan(2);
    expect(choice.reasons.join(" ")).toMatch(
      /would have paged 5 times in one window, more than the 2 allowed/,
    );
  });

  it("rounds the error budget to the target's precision", () => {
    expect(errorBudgetOf(99.5)).toBe(0.005);
    expect(1 - 99.5 / 100).not.toBe(0.005);
    expect([90, 99, 99.9, 99.95, 99.99, 75].map(errorBudgetOf)).toEqual([
      0.1, 0.01, 0.001, 0.0005, 0.0001, 0.25,
    ]);
  });

  it("says why a rung fails with figures that exceed the limit they are compared with", () => {
    const rung = (target: number, budget: number, pages: number) => ({
      target,
      worstWindowBudgetUsed: budget,
      worstWindowPages: pages,
      allowedBadPerWindow: 100,
      daysInBreach: 0,
      pages: 0,
      tickets: 0,
    });
    const bt = {
      ...backtest(synthHistory({ days: 28, perStep: 10, errorRate: 0.001 }), { ladder: [99, 99.9] }),
      ladder: [rung(99, 0.2, 1), rung(99.9, 0.7504, 2.04)],
    };
    const why = chooseTarget(bt).reasons.join("; ");
    expect(why).toMatch(
      /not 99\.9%: its worst window used 75\.04% of the budget, more than the 75% allowed and it would have paged 2\.04 times in one window \(scaled to a window from a shorter history\), more than the 2 allowed/,
    );
    expect(why).not.toMatch(/\(limit/);
  });

  it("caps a flat-100% service where a window still allows one bad event", () => {
    // ~0.2 requests per 5 minutes = ~1,600 per 28 days, none failed.
    const { backtest: bt, choice } = recommendTarget(synthHistory({ days: 28, perStep: 0.2, errorRate: 0 }));
    expect(bt.badEvents).toBe(0);
    expect(choice.volumeCap).toBeDefined();
    const cap = bt.ladder.find((r) => r.target === choice.volumeCap)!;
    expect(cap.allowedBadPerWindow).toBeGreaterThanOrEqual(1);
    const next = bt.ladder.find((r) => r.target > cap.target)!;
    expect(next.allowedBadPerWindow).toBeLessThan(1);
    expect(choice.recommended).toBe(choice.volumeCap);
    expect(choice.recommended).toBeLessThan(99.99);
    expect(choice.aspirational).toBeUndefined();
    expect(choice.reasons.join(" ")).toMatch(/too few to measure/);
  });

  it("steps below the ladder when nothing on it holds, recommending a rung history supports", () => {
    // 20% bad: 90, 85 and 80 use 100% or more of their budget; 75 uses 80%; 70 uses 67%.
    const { choice } = recommendTarget(synthHistory({ days: 28, perStep: 100, errorRate: 0.2 }));
    expect(choice).toMatchObject({ achievable: true, recommended: 70, safe: 65, aspirational: 75 });
    expect(choice.reasons.join("; ")).not.toMatch(/70% fails/);
  });

  it("returns the lowest rung as a floor, saying so, when even 50% does not hold", () => {
    const { choice } = recommendTarget(synthHistory({ days: 28, perStep: 100, errorRate: 0.6 }));
    expect(choice.achievable).toBe(false);
    expect(choice.recommended).toBe(50);
    expect(choice.aspirational).toBeUndefined();
    expect(choice.safe).toBeUndefined();
    expect(choice.reasons[0]).toMatch(
      /no rung passes: even 50% fails .*50% is shown as a floor, not a target/,
    );
  });

  it("gives a web vital (INP at 87% good) a target on the ladder that reaches down to p75 good", () => {
    const inp = synthHistory({ days: 28, perStep: 40, errorRate: 0.13, seed: 5 });
    const tp = proposeTarget(inp, { ladder: WEB_VITAL_LADDER });
    expect(tp.backtest.ladder.map((r) => r.target).slice(0, 4)).toEqual([75, 80, 85, 90]);
    expect(tp.choice).toMatchObject({ achievable: true, recommended: 80, safe: 75, aspirational: 85 });
    const reasons = tp.choice.reasons.join("; ");
    expect(reasons).toMatch(/^80%: worst 28d window used/);
    expect(reasons).toMatch(/not 85%: its worst window used/);
    expect(reasons).not.toMatch(/80% fails|no rung passes/);
    expect(tp.warnings).toEqual([]);
  });

  it("honours a custom rule", () => {
    const bt = backtest(synthHistory({ days: 28, perStep: 1000, errorRate: 0.0002 }));
    expect(chooseTarget(bt, { maxBudgetUsed: 0.3 }).recommended).toBe(99.9);
  });
});

describe("latency thresholds", () => {
  const bounds = [5, 10, 25, 50, 100, 250, 500, 1000];
  it("snaps a value up to the next bucket bound", () => {
    expect(snapUpToBucket(42, bounds)).toBe(50);
    expect(snapUpToBucket(50, bounds)).toBe(50);
    expect(snapUpToBucket(1200, bounds)).toBeUndefined();
  });
  it("takes the bucket that holds the period's p95 (or p99) and reports the share under it", () => {
    const hist = { boundsMs: bounds, counts: [0, 100, 500, 300, 60, 30, 8, 2, 0], sumMs: 0 };
    const p95 = latencyThreshold(hist);
    // 960 of 1,000 requests are <= 100 ms and only 900 are <= 50 ms, so p95 lies in (50, 100].
    expect(p95.thresholdMs).toBe(100);
    expect(p95.fractionUnder).toBeCloseTo(0.96, 9);
    expect(latencyThreshold(hist, 0.9).thresholdMs).toBe(50);
    expect(latencyThreshold(hist, 0.99).thresholdMs).toBe(250);
    expect(latencyThreshold(hist, 0.995).thresholdMs).toBe(500);
  });
  it("reads Prometheus cumulative buckets, clamping extrapolation noise", () => {
    const lh = latencyHistoryFromCumulative({
      stepMs: 300_000,
      leMs: [100, 250, 500],
      points: [{ t: START + 300_000, cumulative: [50, 80, 79.5, 100] }],
    });
    expect(lh.points[0]!.counts).toEqual([50, 30, 0, 20]);
    expect(() =>
      latencyHistoryFromCumulative({
        stepMs: 300_000,
        leMs: [100, 250],
        points: [{ t: 0, cumulative: [1, 2] }],
      }),
    ).toThrow(/expected 3 \(one per le plus \+Inf\)/);
  });

  it("falls back to the last bound with a warning when p95 is in +Inf", () => {
    const t = latencyThreshold({ boundsMs: [100, 200], counts: [10, 10, 80], sumMs: 0 });
    expect(t.thresholdMs).toBe(200);
    expect(t.warning).toMatch(/above the largest bucket/);
  });
  it("rejects malformed histograms", () => {
    expect(() => latencyThreshold({ boundsMs: [1, 2], counts: [1, 1], sumMs: 0 })).toThrow(HistoryError);
    expect(() => latencyThreshold({ boundsMs: [1, 2], counts: [0, 0, 0], sumMs: 0 })).toThrow(
      /no observations/,
    );
  });
  it("turns a latency history into good/total at a bucket bound", () => {
    const lh: LatencyHistory = {
      stepMs: 300_000,
      boundsMs: [100, 250, 500],
      points: [
        { t: START + 300_000, counts: [50, 30, 15, 5] },
        { t: START + 600_000, counts: [10, 0, 0, 90] },
      ],
    };
    expect(latencySliHistory(lh, 250).points).toEqual([
      { t: START + 300_000, good: 80, total: 100 },
      { t: START + 600_000, good: 10, total: 100 },
    ]);
    expect(mergeLatencyHistory(lh).counts).toEqual([60, 30, 15, 95]);
    expect(() => latencySliHistory(lh, 300)).toThrow(/not a bucket bound/);
  });
});

describe("proposeTarget", () => {
  it("returns backtest, choice, confidence and the incident as the top budget consumer", () => {
    const incident = { atDay: 21.5, hours: 3, errorRate: 0.25 };
    const p = proposeTarget(
      synthHistory({ days: 28, perStep: 800, errorRate: 0.0001, incidents: [incident] }),
    );
    expect(p.choice.recommended).toBe(chooseTarget(p.backtest).recommended);
    expect(p.confidence.parts.find((x) => x.name === "incident-dominance")!.score).toBeLessThan(0.6);
    const top = p.topConsumers[0]!;
    // The 3-hour incident is one consumer (adjacent hours merged), covering the incident.
    const incStart = START + incident.atDay * 86_400_000;
    expect(top.start).toBeLessThanOrEqual(incStart);
    expect(top.end).toBeGreaterThanOrEqual(incStart + incident.hours * 3_600_000);
    expect(top.end - top.start).toBeLessThanOrEqual(5 * 3_600_000);
    expect(top.shareOfBad).toBeGreaterThan(0.8);
  });

  it("says nothing can be judged from a history without events", () => {
    const h = synthHistory({ days: 10, perStep: 0, errorRate: 0 });
    const p = proposeTarget(h);
    expect(p.choice.achievable).toBe(false);
    expect(p.choice.recommended).toBe(90);
    expect(p.choice.volumeCap).toBeUndefined();
    expect(p.warnings.join(" ")).toMatch(/holds no events at all/);
    expect(p.choice.reasons[0]).toMatch(/event-based SLO cannot be measured/);
    expect(p.confidence.parts.find((x) => x.name === "volume")!.score).toBe(0);
  });

  it("warns when the step is coarser than the 5m alert window", () => {
    const p = proposeTarget(synthHistory({ days: 28, stepMs: 3_600_000, perStep: 12_000, errorRate: 0.001 }));
    expect(p.warnings.join(" ")).toMatch(/history step 60m is coarser than the 5m short alert window/);
  });

  it("builds a latency SLI from histogram history at the snapped p95", () => {
    const boundsMs = [50, 100, 250, 500, 1000];
    const lh: LatencyHistory = {
      stepMs: 3_600_000,
      boundsMs,
      points: Array.from({ length: 24 * 28 }, (_, i) => ({
        t: START + (i + 1) * 3_600_000,
        // 93% under 100 ms, 5% in (100, 250], 2% slower: p95 lies in (100, 250].
        counts: [600, 330, 50, 15, 5, 0],
      })),
    };
    const { threshold, history } = latencySli(lh);
    expect(threshold.thresholdMs).toBe(250);
    expect(threshold.fractionUnder).toBeCloseTo(0.98, 9);
    const p = proposeTarget(history);
    expect(p.backtest.attainment).toBeCloseTo(98, 6);
    // 2% slow every hour: 97% uses 67% of the budget, 98% all of it.
    expect(p.choice.recommended).toBe(97);
  });
});
