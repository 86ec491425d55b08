import type { SliHistory } from "../core/history.js";
import type { Confidence } from "../core/slo.js";
import { type Backtest, backtest as runBacktest, validateTarget } from "./backtest.js";
import {
  DAY_MS,
  DEFAULT_WINDOW_DAYS,
  daysWithData,
  formatTime,
  HOUR_MS,
  type PreparedHistory,
  prepareHistory,
  rangeOf,
  spanDays,
  stepEnd,
  sumBad,
  sumTotal,
} from "./history.js";

/**
 * How much to trust a proposed target, as named parts a reviewer can read. Each part is a score in
 * [0, 1] with a weight and a sentence; the total is the weighted mean.
 */

type Part = Confidence["parts"][number];

export interface ConfidenceInput {
  /** The target being judged, percent. */
  target: number;
  windowDays?: number;
  /** Reused when the caller already ran it (same history and window). */
  backtest?: Backtest;
  /** A second measurement of the same SLI (e.g. span metrics next to the app's metrics). */
  otherSource?: SliHistory | PreparedHistory;
}

/** Allowed bad events per window that give full volume credit. */
export const FULL_VOLUME_BAD_EVENTS = 10;
/** Full weeks of history for full seasonality credit. */
export const FULL_SEASONALITY_WEEKS = 4;

const fmtN = (x: number) =>
  x >= 100 ? Math.round(x).toLocaleString("en-US") : String(Math.round(x * 10) / 10).replace(/\.0$/, "");
const pp = (ratio: number) => `${(Math.round(ratio * 100 * 1e4) / 1e4).toString()} pp`;
const pct = (x: number) => `${Math.round(x * 100)}%`;
const clamp01 = (x: number) => Math.min(1, Math.max(0, x));

export function assessConfidence(history: SliHistory | PreparedHistory, input: ConfidenceInput): Confidence {
  validateTarget(input.target);
  const h = prepareHistory(history);
  const windowDays = input.windowDays ?? input.backtest?.windowDays ?? DEFAULT_WINDOW_DAYS;
  const bt = input.backtest ?? runBacktest(h, { windowDays, ladder: [input.target] });
  const budget = 1 - input.target / 100;
  const parts: Part[] = [
    coverage(h, windowDays),
    volume(bt, input.target, budget),
    stability(h, budget, input.target),
    seasonality(h),
    agreement(h, input.otherSource, budget),
    incidentDominance(h, bt, budget, input.target),
  ];
  const weight = parts.reduce((a, p) => a + p.weight, 0);
  const score = parts.reduce((a, p) => a + p.score * p.weight, 0) / weight;
  return {
    score: Math.round(score * 1000) / 1000,
    parts: parts.map((p) => ({ ...p, score: round3(p.score) })),
  };
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

function coverage(h: PreparedHistory, windowDays: number): Part {
  const days = daysWithData(h);
  const missingSteps = h.n - h.present[h.n]!;
  const gaps = missingSteps > 0 ? `; ${fmtN(missingSteps)} of ${fmtN(h.n)} steps are missing` : "";
  return {
    name: "coverage",
    score: clamp01(days / windowDays),
    weight: 1,
    detail: `${days} of the ${windowDays} days of the SLO window have data${gaps}`,
  };
}

function volume(bt: Backtest, target: number, budget: number): Part {
  const allowed = bt.eventsPerWindow * budget;
  const score = clamp01(allowed / FULL_VOLUME_BAD_EVENTS);
  let detail =
    `${fmtN(bt.eventsPerWindow)} events per ${bt.windowDays}d window allow ${fmtN(allowed)} bad events at ${target}%` +
    ` (${FULL_VOLUME_BAD_EVENTS} or more for full credit)`;
  if (allowed < FULL_VOLUME_BAD_EVENTS) {
    detail = `low volume: ${detail}; a single failed request moves attainment by ${pp(1 / Math.max(1, bt.eventsPerWindow))}`;
  }
  if (bt.badEvents === 0 && bt.totalEvents > 0) {
    detail +=
      `; no bad event in ${fmtN(bt.days)} days, so history shows no failure mode and the target is capped where ` +
      `a window still allows at least one bad event`;
  }
  return { name: "volume", score, weight: 1, detail };
}

/** Bad ratio per UTC day that had traffic. */
export function dailyBadRatios(h: PreparedHistory): Array<{ day: number; ratio: number; total: number }> {
  const out: Array<{ day: number; ratio: number; total: number; bad: number }> = [];
  let current: { day: number; ratio: number; total: number; bad: number } | undefined;
  for (let i = 0; i < h.n; i++) {
    const day = Math.floor((stepEnd(h, i) - h.stepMs) / DAY_MS) * DAY_MS;
    if (!current || current.day !== day) {
      current = { day, ratio: 0, total: 0, bad: 0 };
      out.push(current);
    }
    current.total += sumTotal(h, i, i + 1);
    current.bad += Math.max(0, sumBad(h, i, i + 1));
  }
  return out.filter((d) => d.total > 0).map((d) => ({ day: d.day, ratio: d.bad / d.total, total: d.total }));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function stability(h: PreparedHistory, budget: number, target: number): Part {
  const daily = dailyBadRatios(h).map((d) => d.ratio);
  if (daily.length < 2) {
    return {
      name: "stability",
      score: 0,
      weight: 1,
      detail: "fewer than 2 days with traffic; stability unknown",
    };
  }
  // Median absolute deviation: a single incident day belongs to incident dominance, not to day-to-day noise.
  const med = median(daily);
  const spread = 1.4826 * median(daily.map((r) => Math.abs(r - med)));
  const score = 1 / (1 + spread / budget);
  return {
    name: "stability",
    score,
    weight: 1,
    detail:
      `daily attainment varies by ±${pp(spread)} (robust std-dev over ${daily.length} days, median ` +
      `${(100 * (1 - med)).toFixed(3)}%), ${pct(spread / budget)} of the ${target}% error budget`,
  };
}

function seasonality(h: PreparedHistory): Part {
  const weeks = Math.floor(spanDays(h) / 7 + 1e-9);
  const score = clamp01(weeks / FULL_SEASONALITY_WEEKS);
  const detail =
    weeks >= FULL_SEASONALITY_WEEKS
      ? `${weeks} full weeks of history: every weekday is seen at least ${FULL_SEASONALITY_WEEKS} times`
      : `only ${weeks} full week(s) of history; ${FULL_SEASONALITY_WEEKS} are needed to see weekly patterns ` +
        `(weekends, batch days) ${FULL_SEASONALITY_WEEKS} times`;
  return { name: "seasonality", score, weight: 0.5, detail };
}

function agreement(
  h: PreparedHistory,
  other: SliHistory | PreparedHistory | undefined,
  budget: number,
): Part {
  const name = h.source ?? "one source";
  if (!other) {
    return {
      name: "agreement",
      score: 0.5,
      weight: 0,
      detail: `only ${name} measures this SLI; no second source to cross-check (neutral, not counted)`,
    };
  }
  const o = prepareHistory(other);
  const ratioOf = (x: PreparedHistory) => {
    const t = sumTotal(x, 0, x.n);
    return t > 0 ? Math.max(0, sumBad(x, 0, x.n)) / t : 0;
  };
  const diff = Math.abs(ratioOf(h) - ratioOf(o));
  // Within 0.1 pp (or a quarter of the budget at high targets) the two agree; a full budget apart is no agreement.
  const tolerance = Math.min(0.001, 0.25 * budget);
  const score = diff <= tolerance ? 1 : clamp01(1 - (diff - tolerance) / budget);
  return {
    name: "agreement",
    score,
    weight: 0.5,
    detail:
      `${name} and ${o.source ?? "the second source"} differ by ${pp(diff)} in attainment ` +
      `(${pct(diff / budget)} of the error budget; agreement within ${pp(tolerance)})`,
  };
}

/** The 24h span (at step resolution) with the most bad events. */
export function worstPeriod(
  h: PreparedHistory,
  durationMs = DAY_MS,
): { from: number; to: number; bad: number } {
  const steps = Math.min(h.n, Math.max(1, Math.round(durationMs / h.stepMs)));
  let best = { from: 0, to: steps, bad: -1 };
  for (let to = steps; to <= h.n; to++) {
    const bad = sumBad(h, to - steps, to);
    if (bad > best.bad) best = { from: to - steps, to, bad };
  }
  return { ...best, bad: Math.max(0, best.bad) };
}

/** Below this many bad events no single period can be said to dominate. */
const MIN_BAD_FOR_DOMINANCE = 10;

function incidentDominance(h: PreparedHistory, bt: Backtest, budget: number, target: number): Part {
  if (bt.badEvents < MIN_BAD_FOR_DOMINANCE) {
    return {
      name: "incident-dominance",
      score: 1,
      weight: 1,
      detail: `${fmtN(bt.badEvents)} bad events in the history, too few for one incident to dominate`,
    };
  }
  const worst = worstPeriod(h);
  const share = worst.bad / bt.badEvents;
  const windowBudget = bt.eventsPerWindow * budget;
  const budgetUsed = windowBudget > 0 ? worst.bad / windowBudget : 0;
  const dominance = clamp01((share - 0.3) / 0.7);
  const significance = clamp01(budgetUsed / 0.25);
  const score = 1 - 0.8 * dominance * significance;
  const { start, end } = rangeOf(h, worst.from, worst.to);
  let detail =
    `the worst 24h (${formatTime(start)} to ${formatTime(end)}) holds ${pct(share)} of all bad events ` +
    `(${fmtN(worst.bad)} of ${fmtN(bt.badEvents)}) and used ${pct(budgetUsed)} of a ${bt.windowDays}d budget at ${target}%`;
  if (dominance * significance > 0.25) {
    detail += "; the target depends on whether an incident like it recurs";
  }
  return { name: "incident-dominance", score, weight: 1, detail };
}

export interface BudgetConsumer {
  start: number;
  end: number;
  bad: number;
  total: number;
  /** Percent over the period. */
  attainment: number;
  /** Share of all bad events in the history. */
  shareOfBad: number;
  /** Share of one window's error budget at the target, when a target is given. */
  budgetUsed?: number;
}

/**
 * The periods (UTC hours or days) with the most bad events, worst first: what evidence points at when it
 * names the incident that ate the budget.
 */
export function topBudgetConsumers(
  history: SliHistory | PreparedHistory,
  opts: {
    granularity?: "hour" | "day";
    k?: number;
    target?: number;
    windowDays?: number;
    /** Joins chosen periods that touch, so a 3-hour incident is one consumer, not three. */
    mergeAdjacent?: boolean;
  } = {},
): BudgetConsumer[] {
  const h = prepareHistory(history);
  const size = opts.granularity === "day" ? DAY_MS : HOUR_MS;
  const k = opts.k ?? 5;
  const buckets = new Map<number, { bad: number; total: number }>();
  for (let i = 0; i < h.n; i++) {
    const key = Math.floor((stepEnd(h, i) - h.stepMs) / size) * size;
    let b = buckets.get(key);
    if (!b) {
      b = { bad: 0, total: 0 };
      buckets.set(key, b);
    }
    b.bad += Math.max(0, sumBad(h, i, i + 1));
    b.total += sumTotal(h, i, i + 1);
  }
  const allBad = Math.max(0, sumBad(h, 0, h.n));
  const windowSteps = (opts.windowDays ?? DEFAULT_WINDOW_DAYS) * h.stepsPerDay;
  const windowBudget =
    opts.target !== undefined
      ? ((sumTotal(h, 0, h.n) * windowSteps) / h.n) * (1 - opts.target / 100)
      : undefined;
  const ranked = [...buckets.entries()]
    .filter(([, b]) => b.bad > 0)
    .sort((a, b) => b[1].bad - a[1].bad || a[0] - b[0]);
  let periods = ranked
    .slice(0, k)
    .map(([start, b]) => ({ start, end: start + size, bad: b.bad, total: b.total }));
  if (opts.mergeAdjacent) {
    // Merge among the worst buckets (more than k, so an incident's quieter hours still join it), then keep k.
    const pool = ranked
      .slice(0, k * 4)
      .map(([start, b]) => ({ start, end: start + size, bad: b.bad, total: b.total }))
      .sort((a, b) => a.start - b.start);
    const merged: typeof pool = [];
    for (const p of pool) {
      const last = merged[merged.length - 1];
      if (last && last.end === p.start) {
        last.end = p.end;
        last.bad += p.bad;
        last.total += p.total;
      } else merged.push({ ...p });
    }
    periods = merged.sort((a, b) => b.bad - a.bad || a.start - b.start).slice(0, k);
  }
  return periods.map((p) => ({
    ...p,
    attainment: p.total > 0 ? 100 * (1 - p.bad / p.total) : 100,
    shareOfBad: allBad > 0 ? p.bad / allBad : 0,
    budgetUsed: windowBudget ? p.bad / windowBudget : undefined,
  }));
}
