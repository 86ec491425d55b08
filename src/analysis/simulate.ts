import type { WindowsCatalog } from "../core/alert-windows.js";
import type { SliHistory } from "../core/history.js";
import { errorBudgetOf } from "../core/proposal.js";
import { validateTarget } from "./backtest.js";
import { type AlertEpisode, type SimulatedWindow, simulateAlerts, simulatedWindows } from "./burn-rate.js";
import {
  checkHistoryLength,
  DEFAULT_WINDOW_DAYS,
  HistoryError,
  HOUR_MS,
  MIN_HISTORY_DAYS,
  type PreparedHistory,
  prepareHistory,
  stepEnd,
  sumBad,
  sumTotal,
} from "./history.js";

/**
 * What-if replay of one SLO over history: the data behind `POST /slo/simulate` and the `simulate`
 * command. The budget is a rolling window's: at each step, the trailing window (or what exists of it
 * once it holds 7 days) is compared with the target, so the curve is what the SLO dashboard would have
 * shown had the SLO existed.
 */

export interface SimulateOptions {
  /** Percent, e.g. 99.9. */
  target: number;
  windowDays?: number;
  /** The alert windows catalog the SLO's rules are generated with; default the built-in one. */
  windows?: WindowsCatalog;
  /** Spacing of the returned curve (a multiple of the history step); breaches and alerts use every step. */
  everyMs?: number;
  minEvents?: number;
  episodeGapMs?: number;
  label?: string;
}

export interface BudgetPoint {
  t: number;
  /** Trailing-window attainment, percent. */
  attainment: number;
  /** 1 = untouched, 0 = spent, negative = overspent. */
  budgetRemaining: number;
  /** Error ratio over the last hour divided by the budget. */
  burnRate1h: number;
}

export interface BreachPeriod {
  start: number;
  end: number;
  /** Lowest budget remaining during the breach (negative). */
  minBudgetRemaining: number;
}

export interface Simulation {
  target: number;
  windowDays: number;
  errorBudget: number;
  burnRateWindows: SimulatedWindow[];
  points: BudgetPoint[];
  breaches: BreachPeriod[];
  alerts: AlertEpisode[];
  summary: {
    attainment: number;
    pages: number;
    tickets: number;
    breachMs: number;
    minBudgetRemaining: number;
    finalBudgetRemaining: number;
  };
  warnings: string[];
}

export function simulate(history: SliHistory | PreparedHistory, opts: SimulateOptions): Simulation {
  validateTarget(opts.target);
  const h = prepareHistory(history);
  const windowDays = opts.windowDays ?? DEFAULT_WINDOW_DAYS;
  const warnings = [...h.warnings, ...checkHistoryLength(h, windowDays, opts.label)];
  const everyMs = opts.everyMs ?? h.stepMs;
  if (everyMs % h.stepMs !== 0 || everyMs <= 0) {
    throw new HistoryError(
      `everyMs ${everyMs} must be a positive multiple of the history step ${h.stepMs} ms`,
    );
  }
  const every = everyMs / h.stepMs;
  const budget = errorBudgetOf(opts.target);
  const w = Math.round(windowDays * h.stepsPerDay);
  const warmup = Math.min(w, MIN_HISTORY_DAYS * h.stepsPerDay);
  const hourSteps = Math.max(1, Math.round(HOUR_MS / h.stepMs));

  const points: BudgetPoint[] = [];
  const breaches: BreachPeriod[] = [];
  let open: BreachPeriod | undefined;
  let minRemaining = 1;
  let finalRemaining = 1;
  const lastIndex = h.n - 1;
  for (let i = warmup - 1; i < h.n; i++) {
    const from = Math.max(0, i + 1 - w);
    const total = sumTotal(h, from, i + 1);
    const ratio = total > 0 ? Math.max(0, sumBad(h, from, i + 1)) / total : 0;
    const remaining = 1 - ratio / budget;
    minRemaining = Math.min(minRemaining, remaining);
    finalRemaining = remaining;
    const t = stepEnd(h, i);
    if (remaining < 0) {
      if (open) {
        open.end = t;
        open.minBudgetRemaining = Math.min(open.minBudgetRemaining, remaining);
      } else {
        open = { start: t - h.stepMs, end: t, minBudgetRemaining: remaining };
        breaches.push(open);
      }
    } else {
      open = undefined;
    }
    if ((lastIndex - i) % every === 0) {
      const hf = Math.max(0, i + 1 - hourSteps);
      const ht = sumTotal(h, hf, i + 1);
      points.push({
        t,
        attainment: 100 * (1 - ratio),
        budgetRemaining: remaining,
        burnRate1h: ht > 0 ? Math.max(0, sumBad(h, hf, i + 1)) / ht / budget : 0,
      });
    }
  }
  const alerts = simulateAlerts(h, opts.target, {
    windowDays,
    windows: opts.windows,
    minEvents: opts.minEvents,
    episodeGapMs: opts.episodeGapMs,
  });
  const total = sumTotal(h, 0, h.n);
  const pages = alerts.filter((a) => a.severity === "page").length;
  return {
    target: opts.target,
    windowDays,
    errorBudget: budget,
    burnRateWindows: simulatedWindows(windowDays, opts.windows),
    points,
    breaches,
    alerts,
    summary: {
      attainment: total > 0 ? 100 * (1 - Math.max(0, sumBad(h, 0, h.n)) / total) : 100,
      pages,
      tickets: alerts.length - pages,
      breachMs: breaches.reduce((a, b) => a + (b.end - b.start), 0),
      minBudgetRemaining: minRemaining,
      finalBudgetRemaining: finalRemaining,
    },
    warnings,
  };
}
