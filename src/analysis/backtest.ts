import type { SliHistory } from "../core/history.js";
import type { TargetRung } from "../core/proposal.js";
import { type AlertSimOptions, simulateAlerts } from "./burn-rate.js";
import {
  badRatio,
  checkHistoryLength,
  DEFAULT_WINDOW_DAYS,
  daysWithData,
  HistoryError,
  MIN_HISTORY_DAYS,
  type PreparedHistory,
  prepareHistory,
  rangeOf,
  spanDays,
  sumBad,
  sumTotal,
} from "./history.js";

/**
 * Backtests a ladder of targets against a history.
 *
 * Rolling windows: a window of the SLO's length ends at the last point and then every 24h earlier, as
 * long as it fits in the history (28 days of data and a 28d SLO give exactly one window). With less
 * history than the window, the whole span stands in for one window: budget use is a ratio so it carries
 * over, and page counts are scaled by window / span.
 *
 * Days in breach: at each of those daily evaluation points (also the ones whose trailing window is not
 * full yet, once it holds at least 7 days — what the SLO dashboard would have shown), the trailing
 * window's attainment is compared with the target.
 */

export const DEFAULT_LADDER = [90, 95, 97, 98, 99, 99.5, 99.9, 99.95, 99.99] as const;

/**
 * Core Web Vitals judge a page by the 75th percentile of its loads, so a 75% good ratio is the field's
 * baseline ("p75 good") and a web-vital ladder starts there.
 */
export const WEB_VITAL_LADDER = [75, 80, 85, ...DEFAULT_LADDER] as const;

export interface BacktestOptions {
  /** SLO window in days; default 28. */
  windowDays?: number;
  /** Targets in percent, any order; default DEFAULT_LADDER. */
  ladder?: readonly number[];
  /** The alert windows the pages per rung are counted with; default the built-in catalog. */
  windows?: AlertSimOptions["windows"];
  minEvents?: AlertSimOptions["minEvents"];
  episodeGapMs?: AlertSimOptions["episodeGapMs"];
  /** Names the SLI in messages (e.g. the refusal under 7 days). */
  label?: string;
}

export interface BacktestRung extends TargetRung {
  /** Most page episodes that started inside one window (scaled to a window when the history is shorter). */
  worstWindowPages: number;
  /** Bad events one window may hold at this target, from the average traffic per window. */
  allowedBadPerWindow: number;
}

export interface Backtest {
  windowDays: number;
  /** Length of the history. */
  days: number;
  daysWithData: number;
  /** Attainment over the whole history, percent. */
  attainment: number;
  totalEvents: number;
  badEvents: number;
  /** Average events per SLO window. */
  eventsPerWindow: number;
  /** Full windows evaluated (0 when the history is shorter than a window and the span was scaled). */
  fullWindows: number;
  worstWindow: { start: number; end: number; attainment: number };
  /** Daily evaluation points used for days in breach. */
  daysEvaluated: number;
  ladder: BacktestRung[];
  warnings: string[];
}

export function validateTarget(target: number): void {
  if (!(target > 0 && target < 100)) {
    throw new HistoryError(
      `target must be a percentage between 0 and 100 (exclusive), e.g. 99.9; got ${target}`,
    );
  }
}

/** Trailing windows ending at the last step and every day before it; each is `[from, to)`. */
export function rollingWindows(h: PreparedHistory, windowDays: number): Array<[number, number]> {
  const w = Math.round(windowDays * h.stepsPerDay);
  if (h.n < w) return [[0, h.n]];
  const out: Array<[number, number]> = [];
  for (let end = h.n; end >= w; end -= h.stepsPerDay) out.push([end - w, end]);
  return out;
}

/** Daily evaluation points for days in breach: trailing windows (partial ones too) with >= 7 days in them. */
export function dailyTrailingWindows(h: PreparedHistory, windowDays: number): Array<[number, number]> {
  const w = Math.round(windowDays * h.stepsPerDay);
  const minSteps = Math.min(w, MIN_HISTORY_DAYS * h.stepsPerDay);
  const out: Array<[number, number]> = [];
  for (let end = h.n; end >= minSteps; end -= h.stepsPerDay) out.push([Math.max(0, end - w), end]);
  return out.reverse();
}

export function backtest(history: SliHistory | PreparedHistory, opts: BacktestOptions = {}): Backtest {
  const h = prepareHistory(history);
  const windowDays = opts.windowDays ?? DEFAULT_WINDOW_DAYS;
  const ladder = [...(opts.ladder ?? DEFAULT_LADDER)].sort((a, b) => a - b);
  for (const t of ladder) validateTarget(t);
  const warnings = [...h.warnings, ...checkHistoryLength(h, windowDays, opts.label)];

  if (h.stepMs > 5 * 60_000) {
    warnings.push(
      `history step ${h.stepMs / 60_000}m is coarser than the 5m short alert window; simulated pages use ` +
        `${h.stepMs / 60_000}m windows and may be fewer or later than real ones`,
    );
  }
  const windows = rollingWindows(h, windowDays);
  const fullWindows = h.n >= Math.round(windowDays * h.stepsPerDay) ? windows.length : 0;
  let worst = windows[0]!;
  let worstRatio = -1;
  for (const win of windows) {
    const r = badRatio(h, win[0], win[1]);
    if (r > worstRatio) {
      worstRatio = r;
      worst = win;
    }
  }
  const daily = dailyTrailingWindows(h, windowDays).map(([a, b]) => badRatio(h, a, b));
  const totalEvents = sumTotal(h, 0, h.n);
  const badEvents = Math.max(0, sumBad(h, 0, h.n));
  const windowSteps = Math.round(windowDays * h.stepsPerDay);
  const eventsPerWindow = (totalEvents * windowSteps) / h.n;
  const pageScale = fullWindows === 0 ? windowSteps / h.n : 1;
  if (totalEvents === 0) warnings.push("the history holds no events at all; no target can be judged from it");

  const rungs = ladder.map((target): BacktestRung => {
    const budget = 1 - target / 100;
    const episodes = simulateAlerts(h, target, {
      windowDays,
      windows: opts.windows,
      minEvents: opts.minEvents,
      episodeGapMs: opts.episodeGapMs,
    });
    const pageStarts = episodes.filter((e) => e.severity === "page").map((e) => e.start);
    let worstWindowPages = 0;
    for (const [from, to] of windows) {
      const { start, end } = rangeOf(h, from, to);
      let count = 0;
      for (const s of pageStarts) if (s > start && s <= end) count++;
      worstWindowPages = Math.max(worstWindowPages, count * pageScale);
    }
    return {
      target,
      worstWindowBudgetUsed: worstRatio / budget,
      daysInBreach: daily.filter((r) => r > budget).length,
      pages: pageStarts.length,
      tickets: episodes.length - pageStarts.length,
      worstWindowPages,
      allowedBadPerWindow: eventsPerWindow * budget,
    };
  });

  const worstRange = rangeOf(h, worst[0], worst[1]);
  return {
    windowDays,
    days: spanDays(h),
    daysWithData: daysWithData(h),
    attainment: totalEvents > 0 ? 100 * (1 - badEvents / totalEvents) : 100,
    totalEvents,
    badEvents,
    eventsPerWindow,
    fullWindows,
    worstWindow: { ...worstRange, attainment: 100 * (1 - Math.max(0, worstRatio)) },
    daysEvaluated: daily.length,
    ladder: rungs,
    warnings,
  };
}
