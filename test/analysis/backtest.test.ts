import { describe, expect, it } from "vitest";
import { backtest, DEFAULT_LADDER } from "../../src/analysis/backtest.js";
import { simulateAlerts, simulatedWindows } from "../../src/analysis/burn-rate.js";
import { InsufficientHistoryError, parseWindowDays, prepareHistory } from "../../src/analysis/history.js";
import { START, synthHistory } from "./synthetic.js";

describe("history preparation", () => {
  it("refuses a step that does not divide a day", () => {
    expect(() => prepareHistory({ stepMs: 7 * 60_000, points: [{ t: 0, good: 1, total: 1 }] })).toThrow(
      /divide a day/,
    );
  });
  it("refuses points off the step grid and duplicate points", () => {
    expect(() =>
      prepareHistory({
        stepMs: 60_000,
        points: [
          { t: 60_000, good: 1, total: 1 },
          { t: 150_000, good: 1, total: 1 },
        ],
      }),
    ).toThrow(/not on the 60000 ms grid/);
    expect(() =>
      prepareHistory({
        stepMs: 60_000,
        points: [
          { t: 60_000, good: 1, total: 1 },
          { t: 60_000, good: 1, total: 1 },
        ],
      }),
    ).toThrow(/two points/);
  });
  it("rejects malformed input with the path of the problem", () => {
    expect(() => prepareHistory({ stepMs: 60_000, points: [{ t: 0, good: -1, total: 1 }] })).toThrow(
      /points\.0\.good/,
    );
  });
  it("clamps good above total and says so", () => {
    const h = prepareHistory({
      stepMs: 60_000,
      points: [
        { t: 60_000, good: 11, total: 10 },
        { t: 120_000, good: 9, total: 10 },
      ],
    });
    expect(h.bad[h.n]).toBe(1);
    expect(h.warnings[0]).toMatch(/1 point\(s\) had more good than total/);
  });
  it("treats missing steps as gaps", () => {
    const h = prepareHistory({
      stepMs: 60_000,
      points: [
        { t: 60_000, good: 1, total: 1 },
        { t: 240_000, good: 1, total: 1 },
      ],
    });
    expect(h.n).toBe(4);
    expect(h.present[h.n]).toBe(2);
  });
});

describe("SLO window", () => {
  it("parses 28d, 4w and plain days, and explains a bad window", () => {
    expect(parseWindowDays("28d")).toBe(28);
    expect(parseWindowDays("4w")).toBe(28);
    expect(parseWindowDays("672h")).toBe(28);
    expect(parseWindowDays(30)).toBe(30);
    expect(() => parseWindowDays("1 month")).toThrow(/must look like 28d, 30d or 4w/);
    expect(() => parseWindowDays("0d")).toThrow(/at least 1d/);
    expect(() => parseWindowDays("1d12h")).toThrow(/must look like 28d, 30d or 4w/);
  });
});

describe("burn-rate windows", () => {
  it("scales the Workbook factors to the SLO period", () => {
    const f28 = simulatedWindows(28).map((w) => Number(w.factor.toFixed(4)));
    const f30 = simulatedWindows(30).map((w) => Number(w.factor.toFixed(4)));
    expect(f30).toEqual([14.4, 6, 3, 1]);
    expect(f28).toEqual([13.44, 5.6, 2.8, 0.9333]);
    expect(simulatedWindows(28).map((w) => w.name)).toEqual(["1h/5m", "6h/30m", "1d/2h", "3d/6h"]);
    expect(simulatedWindows(28).map((w) => w.budgetPercent)).toEqual([2, 5, 10, 10]);
  });

  it("pages once for one sharp incident and not at all for a quiet history", () => {
    const quiet = prepareHistory(synthHistory({ days: 28, perStep: 1000, errorRate: 0.0001 }));
    expect(simulateAlerts(quiet, 99.9, { windowDays: 28 }).filter((e) => e.severity === "page")).toEqual([]);
    const spiky = prepareHistory(
      synthHistory({
        days: 28,
        perStep: 1000,
        errorRate: 0.0001,
        incidents: [{ atDay: 10, hours: 2, errorRate: 0.3 }],
      }),
    );
    const pages = simulateAlerts(spiky, 99.9, { windowDays: 28 }).filter((e) => e.severity === "page");
    expect(pages).toHaveLength(1);
    expect(pages[0]!.start).toBeGreaterThan(START + 10 * 86_400_000);
    expect(pages[0]!.start).toBeLessThan(START + 10 * 86_400_000 + 15 * 60_000);
    expect(pages[0]!.windows).toContain("1h/5m");
    expect(pages[0]!.peakBurnRate).toBeGreaterThan(100);
  });

  it("judges a pair only once its long window lies inside the history", () => {
    const h = synthHistory({
      days: 8,
      perStep: 100,
      errorRate: 0,
      incidents: [{ atDay: 0, hours: 0.1, errorRate: 0.5 }],
    });
    expect(simulateAlerts(prepareHistory(h), 99.9, { windowDays: 28 })).toEqual([]);
    // The same burst half a day in pages.
    const later = synthHistory({
      days: 8,
      perStep: 100,
      errorRate: 0,
      incidents: [{ atDay: 0.5, hours: 0.1, errorRate: 0.5 }],
    });
    expect(
      simulateAlerts(prepareHistory(later), 99.9, { windowDays: 28 }).some((e) => e.severity === "page"),
    ).toBe(true);
  });

  it("does not page when the long window holds fewer than minEvents", () => {
    const h = prepareHistory(
      synthHistory({
        days: 8,
        perStep: 2,
        errorRate: 0,
        incidents: [{ atDay: 3, hours: 0.2, errorRate: 1 }],
      }),
    );
    expect(simulateAlerts(h, 99.9, { windowDays: 28 }).some((e) => e.severity === "page")).toBe(true);
    expect(simulateAlerts(h, 99.9, { windowDays: 28, minEvents: 100_000 })).toEqual([]);
  });
});

describe("backtest", () => {
  it("refuses less than 7 days with a message that says what is missing and when to retry", () => {
    const h = synthHistory({ days: 5, perStep: 100, errorRate: 0.001 });
    let err: unknown;
    try {
      backtest(h, { label: "checkout availability" });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InsufficientHistoryError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/not enough history for checkout availability: 5\.0 days/);
    expect(msg).toMatch(/at least 7 days/);
    expect(msg).toMatch(/run again after 2026-10-08/);
  });

  it("warns under 28 days and scales the span to a window", () => {
    const bt = backtest(synthHistory({ days: 14, perStep: 100, errorRate: 0.001 }));
    expect(bt.warnings.join(" ")).toMatch(/only 14\.0 days of history/);
    expect(bt.fullWindows).toBe(0);
    expect(bt.eventsPerWindow).toBeCloseTo(bt.totalEvents * 2, 6);
  });

  it("warns at 27.9 days of history and not at 28.0, nor when the first step of 28 days is missing", () => {
    const warned = (days: number) =>
      backtest(synthHistory({ days, perStep: 100, errorRate: 0.001 })).warnings.join(" ");
    expect(warned(27.9)).toMatch(/only 27\.9 days of history .*28 days are recommended/);
    expect(warned(28)).toBe("");
    // increase() needs a sample before the first step, so 28 days of data read back as 28 days less one step.
    const short = synthHistory({ days: 28, perStep: 100, errorRate: 0.001 });
    expect(backtest({ ...short, points: short.points.slice(1) }).warnings).toEqual([]);
    // Just short of the limit reads as below it, never as "only 28.0 days".
    expect(warned(27.99)).toMatch(/only 27\.9 days/);
  });

  it("evaluates one full window with exactly 28 days and one per day beyond", () => {
    expect(backtest(synthHistory({ days: 28, perStep: 50, errorRate: 0.001 })).fullWindows).toBe(1);
    const bt = backtest(synthHistory({ days: 35, perStep: 50, errorRate: 0.001 }));
    expect(bt.fullWindows).toBe(8);
    expect(bt.warnings).toEqual([]);
    // Days in breach are judged from day 7 onward.
    expect(bt.daysEvaluated).toBe(29);
  });

  it("computes worst-window budget use from the worst window, per rung", () => {
    const bt = backtest(
      synthHistory({
        days: 42,
        perStep: 1000,
        errorRate: 0.0002,
        incidents: [{ atDay: 35, hours: 1, errorRate: 0.5 }],
      }),
    );
    expect(bt.ladder.map((r) => r.target)).toEqual([...DEFAULT_LADDER]);
    // The worst window is one that holds the incident, so it ends after day 35.
    expect(bt.worstWindow.end).toBeGreaterThan(START + 35 * 86_400_000);
    const worstBad = 100 - bt.worstWindow.attainment;
    for (const r of bt.ladder) expect(r.worstWindowBudgetUsed).toBeCloseTo(worstBad / (100 - r.target), 9);
    // Monotone: stricter targets use more budget, breach more days and page more.
    for (let i = 1; i < bt.ladder.length; i++) {
      expect(bt.ladder[i]!.daysInBreach).toBeGreaterThanOrEqual(bt.ladder[i - 1]!.daysInBreach);
      expect(bt.ladder[i]!.pages).toBeGreaterThanOrEqual(bt.ladder[i - 1]!.pages);
    }
  });

  it("counts days whose trailing window was below target", () => {
    const bt = backtest(
      synthHistory({
        days: 28,
        perStep: 1000,
        errorRate: 0.0001,
        incidents: [{ atDay: 20.5, hours: 4, errorRate: 0.2 }],
      }),
    );
    const at = (t: number) => bt.ladder.find((r) => r.target === t)!;
    // 4h at 20% is ~0.1% of a 28-day window: every day after the incident breaches 99.9, none breaches 99.
    expect(at(99.9).daysInBreach).toBeGreaterThanOrEqual(7);
    expect(at(99.9).daysInBreach).toBeLessThanOrEqual(8);
    expect(at(99).daysInBreach).toBe(0);
  });
});
