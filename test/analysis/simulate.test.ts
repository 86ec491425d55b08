import { describe, expect, it } from "vitest";
import { InsufficientHistoryError } from "../../src/analysis/history.js";
import { simulate } from "../../src/analysis/simulate.js";
import { WindowsCatalog } from "../../src/core/alert-windows.js";
import { START, synthHistory } from "./synthetic.js";

const DAY = 86_400_000;

describe("simulate", () => {
  const incident = { atDay: 20, hours: 4, errorRate: 0.2 };
  const h = synthHistory({ days: 28, perStep: 1000, errorRate: 0.0001, incidents: [incident] });

  it("replays budget, breaches and alerts for a target", () => {
    const sim = simulate(h, { target: 99.9 });
    expect(sim.errorBudget).toBeCloseTo(0.001, 12);
    // The curve starts once the trailing window holds 7 days.
    expect(sim.points[0]!.t).toBe(START + 7 * DAY);
    expect(sim.points.at(-1)!.t).toBe(START + 28 * DAY);
    const before = sim.points.filter((p) => p.t < START + incident.atDay * DAY);
    expect(Math.min(...before.map((p) => p.budgetRemaining))).toBeGreaterThan(0.5);
    // The incident overspends the budget and it stays breached to the end of the history.
    expect(sim.breaches).toHaveLength(1);
    expect(sim.breaches[0]!.start).toBeGreaterThan(START + incident.atDay * DAY);
    expect(sim.breaches[0]!.end).toBe(START + 28 * DAY);
    expect(sim.summary.minBudgetRemaining).toBeLessThan(0);
    expect(sim.summary.finalBudgetRemaining).toBe(sim.points.at(-1)!.budgetRemaining);
    const pages = sim.alerts.filter((a) => a.severity === "page");
    expect(pages).toHaveLength(1);
    expect(pages[0]!.start).toBeGreaterThan(START + incident.atDay * DAY);
    expect(pages[0]!.end).toBeLessThan(START + incident.atDay * DAY + 8 * 3_600_000);
    expect(sim.summary.pages).toBe(1);
    expect(sim.summary.tickets).toBeGreaterThanOrEqual(1);
    const during = sim.points.find((p) => p.t === START + incident.atDay * DAY + 2 * 3_600_000)!;
    expect(during.burnRate1h).toBeGreaterThan(100);
  });

  it("replays the alerts of a custom windows catalog, as the generated rules would use it", () => {
    const H = 3_600_000;
    // Paging only when an hour burns the whole 28-day budget: factor 672, far above the incident's 20%.
    const windows = WindowsCatalog.custom([
      {
        periodMs: 28 * DAY,
        page: {
          quick: { errorBudgetPercent: 100, shortWindowMs: 5 * 60_000, longWindowMs: H },
          slow: { errorBudgetPercent: 100, shortWindowMs: 30 * 60_000, longWindowMs: H },
        },
        ticket: {
          quick: { errorBudgetPercent: 10, shortWindowMs: 2 * H, longWindowMs: 24 * H },
          slow: { errorBudgetPercent: 10, shortWindowMs: 6 * H, longWindowMs: 72 * H },
        },
      },
    ]);
    const sim = simulate(h, { target: 99.9, windows });
    expect(sim.burnRateWindows.map((w) => [w.name, w.budgetPercent, w.factor])).toEqual([
      ["1h/5m", 100, 672],
      ["1h/30m", 100, 672],
      ["1d/2h", 10, 2.8000000000000003],
      ["3d/6h", 10, 0.9333333333333333],
    ]);
    expect(sim.summary.pages).toBe(0);
    expect(sim.summary.tickets).toBeGreaterThanOrEqual(1);
    expect(() => simulate(h, { target: 99.9, windowDays: 30, windows })).toThrow(
      /30d SLO period has no alert/,
    );
  });

  it("neither breaches nor pages at a target loose enough for the incident", () => {
    // 20% errors for 4h stay under 13.44 × 5% (1h/5m) and 5.6 × 5% (6h/30m).
    const sim = simulate(h, { target: 95 });
    expect(sim.breaches).toEqual([]);
    expect(sim.summary.breachMs).toBe(0);
    expect(sim.alerts.filter((a) => a.severity === "page")).toEqual([]);
  });

  it("thins the curve without changing breaches or alerts", () => {
    const full = simulate(h, { target: 99.9 });
    const hourly = simulate(h, { target: 99.9, everyMs: 3_600_000 });
    expect(hourly.points.length).toBe(21 * 24 + 1);
    expect(hourly.points.at(-1)).toEqual(full.points.at(-1));
    expect(hourly.breaches).toEqual(full.breaches);
    expect(hourly.alerts).toEqual(full.alerts);
    expect(() => simulate(h, { target: 99.9, everyMs: 1000 })).toThrow(/multiple of the history step/);
  });

  it("refuses short histories and bad targets with clear messages", () => {
    expect(() => simulate(synthHistory({ days: 3, perStep: 10, errorRate: 0 }), { target: 99 })).toThrow(
      InsufficientHistoryError,
    );
    expect(() => simulate(h, { target: 100 })).toThrow(/between 0 and 100/);
  });
});
