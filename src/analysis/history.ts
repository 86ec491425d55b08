import { parseDuration } from "../core/duration.js";
import { SliHistory } from "../core/history.js";

/** Shared time constants and the dense, prefix-summed form of an SLI history every analysis works on. */

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
/** Below this much history no target is proposed: a week is the shortest span that sees every weekday. */
export const MIN_HISTORY_DAYS = 7;
/** Under this, targets are proposed with a warning (four weeks see every weekday four times). */
export const FULL_HISTORY_DAYS = 28;
export const DEFAULT_WINDOW_DAYS = 28;

export class InsufficientHistoryError extends Error {
  override name = "InsufficientHistoryError";
  constructor(
    readonly days: number,
    readonly requiredDays: number,
    message: string,
  ) {
    super(message);
  }
}

export class HistoryError extends Error {
  override name = "HistoryError";
}

/**
 * A history laid on a regular grid. Step `i` (0-based) covers `(end(i) - stepMs, end(i)]` with
 * `end(i) = firstT + i * stepMs`. Prefix arrays have `n + 1` entries so any range sum is O(1):
 * `total[j] - total[i]` is the sum over steps `[i, j)`.
 */
export interface PreparedHistory {
  readonly stepMs: number;
  readonly firstT: number;
  readonly n: number;
  readonly total: Float64Array;
  readonly bad: Float64Array;
  /** Prefix count of steps that had a point (gaps are steps without one). */
  readonly present: Float64Array;
  readonly stepsPerDay: number;
  readonly source?: string;
  /** Things the caller should show the user (e.g. clamped counts). */
  readonly warnings: string[];
}

const fmtDate = (t: number) => new Date(t).toISOString().replace(/:\d\d\.\d{3}Z$/, "Z");

/** Validates, sorts and densifies a history. Throws HistoryError with the reason on malformed input. */
export function prepareHistory(input: SliHistory | PreparedHistory): PreparedHistory {
  if (isPrepared(input)) return input;
  const parsed = SliHistory.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new HistoryError(`invalid SLI history at ${issue.path.join(".") || "(root)"}: ${issue.message}`);
  }
  const { stepMs, points, source } = parsed.data;
  if (DAY_MS % stepMs !== 0) {
    throw new HistoryError(
      `history step ${stepMs} ms does not divide a day; use a step like 60000 (1m), 300000 (5m) or 3600000 (1h)`,
    );
  }
  if (points.length === 0) throw new HistoryError("SLI history has no points");
  const sorted = [...points].sort((a, b) => a.t - b.t);
  const firstT = sorted[0]!.t;
  const lastT = sorted[sorted.length - 1]!.t;
  const n = Math.round((lastT - firstT) / stepMs) + 1;
  const total = new Float64Array(n + 1);
  const bad = new Float64Array(n + 1);
  const present = new Float64Array(n + 1);
  const stepTotal = new Float64Array(n);
  const stepBad = new Float64Array(n);
  const seen = new Uint8Array(n);
  let clamped = 0;
  for (const p of sorted) {
    const offset = (p.t - firstT) / stepMs;
    const i = Math.round(offset);
    if (Math.abs(offset - i) > 1e-6) {
      throw new HistoryError(
        `point at ${fmtDate(p.t)} is not on the ${stepMs} ms grid that starts at ${fmtDate(firstT)}`,
      );
    }
    if (seen[i]) throw new HistoryError(`two points at ${fmtDate(p.t)}; each step must appear once`);
    seen[i] = 1;
    let good = p.good;
    // Independent increase() of two counters can overshoot by a little; good above total is not "negative bad".
    if (good > p.total) {
      clamped++;
      good = p.total;
    }
    stepTotal[i] = p.total;
    stepBad[i] = p.total - good;
  }
  for (let i = 0; i < n; i++) {
    total[i + 1] = total[i]! + stepTotal[i]!;
    bad[i + 1] = bad[i]! + stepBad[i]!;
    present[i + 1] = present[i]! + seen[i]!;
  }
  const warnings: string[] = [];
  if (clamped > 0) {
    warnings.push(
      `${clamped} point(s) had more good than total events (counter extrapolation); good was clamped`,
    );
  }
  return { stepMs, firstT, n, total, bad, present, stepsPerDay: DAY_MS / stepMs, source, warnings };
}

function isPrepared(x: SliHistory | PreparedHistory): x is PreparedHistory {
  return (x as PreparedHistory).total instanceof Float64Array;
}

/** End time of step `i`. */
export const stepEnd = (h: PreparedHistory, i: number) => h.firstT + i * h.stepMs;
/** The time range covered by steps `[from, to)`. */
export const rangeOf = (h: PreparedHistory, from: number, to: number) => ({
  start: stepEnd(h, from) - h.stepMs,
  end: stepEnd(h, to - 1),
});
export const spanDays = (h: PreparedHistory) => (h.n * h.stepMs) / DAY_MS;
export const sumTotal = (h: PreparedHistory, from: number, to: number) => h.total[to]! - h.total[from]!;
export const sumBad = (h: PreparedHistory, from: number, to: number) => h.bad[to]! - h.bad[from]!;

/** Bad-event ratio over steps `[from, to)`; 0 when there was no traffic. */
export function badRatio(h: PreparedHistory, from: number, to: number): number {
  const t = sumTotal(h, from, to);
  return t > 0 ? Math.max(0, sumBad(h, from, to)) / t : 0;
}

/** Days (24h slices counted back from the last point) that hold at least one point. */
export function daysWithData(h: PreparedHistory): number {
  let days = 0;
  for (let end = h.n; end > 0; end -= h.stepsPerDay) {
    const start = Math.max(0, end - h.stepsPerDay);
    if (h.present[end]! - h.present[start]! > 0) days++;
  }
  return days;
}

/**
 * Whether the history is at least `days` long. The first step of a history read through `increase()` has no
 * earlier sample to be measured from, so a history short of `days` by at most one step is `days` long:
 * 28 days of data end to end are 28 days, not "only 28.0".
 */
export function coversDays(h: PreparedHistory, days: number): boolean {
  return h.n + 1 >= days * h.stepsPerDay - 1e-9;
}

/** Days to one decimal, below `limit`: a history just short of a limit never reads as reaching it. */
const daysBelow = (days: number, limit: number) =>
  Math.min(Math.round(days * 10) / 10, limit - 0.1).toFixed(1);

/**
 * Throws InsufficientHistoryError under MIN_HISTORY_DAYS, naming the date from which it can run; returns a
 * warning under FULL_HISTORY_DAYS (or under the SLO window when that is longer), and none from there on.
 */
export function checkHistoryLength(h: PreparedHistory, windowDays: number, what = "this SLI"): string[] {
  const days = spanDays(h);
  const range = `${fmtDate(h.firstT - h.stepMs)} to ${fmtDate(stepEnd(h, h.n - 1))}`;
  if (!coversDays(h, MIN_HISTORY_DAYS)) {
    throw new InsufficientHistoryError(
      days,
      MIN_HISTORY_DAYS,
      `not enough history for ${what}: ${daysBelow(days, MIN_HISTORY_DAYS)} days (${range}); at least ${MIN_HISTORY_DAYS} days are ` +
        `needed to propose a target and ${FULL_HISTORY_DAYS} for a reliable one. Keep collecting data and run again ` +
        `after ${fmtDate(h.firstT - h.stepMs + MIN_HISTORY_DAYS * DAY_MS)}.`,
    );
  }
  const wanted = Math.max(FULL_HISTORY_DAYS, windowDays);
  if (!coversDays(h, wanted)) {
    return [
      `only ${daysBelow(days, wanted)} days of history (${range}); ${wanted} days are recommended, so the ` +
        `${windowDays}d window is estimated from a shorter span`,
    ];
  }
  return [];
}

/** Parses a window of whole days (`28d`, `4w`, `30d`: a Prometheus duration) or a number of days. */
export function parseWindowDays(window: string | number): number {
  if (typeof window === "number") {
    if (!(window > 0)) throw new HistoryError(`SLO window must be positive days, got ${window}`);
    return window;
  }
  const ms = parseDuration(window.trim());
  if (ms === undefined || ms % DAY_MS !== 0)
    throw new HistoryError(`SLO window ${JSON.stringify(window)} must look like 28d, 30d or 4w`);
  if (ms <= 0) throw new HistoryError(`SLO window must be at least 1d, got ${window}`);
  return ms / DAY_MS;
}

export const formatTime = fmtDate;
