import { HOUR_MS, type PreparedHistory, stepEnd } from "./history.js";

/**
 * Replays multi-window multi-burn-rate alerts (SRE Workbook ch. 5, as Sloth generates them) over a history:
 * a pair fires when the error ratio over BOTH its long and short window exceeds `factor × (1 − target)`;
 * pairs of one severity are OR'ed. `factor = budget% × period / longWindow`, so the 30d page pair is 14.4
 * and the 28d one 13.44.
 */

export type AlertSeverity = "page" | "ticket";

export interface BurnRateWindow {
  severity: AlertSeverity;
  longMs: number;
  shortMs: number;
  /** Share of the period's budget the long window may burn before firing, in percent. */
  budgetPercent: number;
  factor: number;
  /** e.g. `1h/5m`. */
  name: string;
}

const WORKBOOK: Array<Omit<BurnRateWindow, "factor" | "name">> = [
  { severity: "page", longMs: HOUR_MS, shortMs: 5 * 60_000, budgetPercent: 2 },
  { severity: "page", longMs: 6 * HOUR_MS, shortMs: 30 * 60_000, budgetPercent: 5 },
  { severity: "ticket", longMs: 24 * HOUR_MS, shortMs: 2 * HOUR_MS, budgetPercent: 10 },
  { severity: "ticket", longMs: 72 * HOUR_MS, shortMs: 6 * HOUR_MS, budgetPercent: 10 },
];

const dur = (ms: number) =>
  ms % (24 * HOUR_MS) === 0
    ? `${ms / (24 * HOUR_MS)}d`
    : ms % HOUR_MS === 0
      ? `${ms / HOUR_MS}h`
      : `${ms / 60_000}m`;

/** The Workbook's four window pairs with their burn-rate factors for an SLO period of `windowDays`. */
export function burnRateWindows(windowDays: number): BurnRateWindow[] {
  const periodHours = windowDays * 24;
  return WORKBOOK.map((w) => ({
    ...w,
    factor: ((w.budgetPercent / 100) * periodHours) / (w.longMs / HOUR_MS),
    name: `${dur(w.longMs)}/${dur(w.shortMs)}`,
  }));
}

export interface AlertEpisode {
  severity: AlertSeverity;
  /** End time of the first firing step. */
  start: number;
  /** End time of the last firing step. */
  end: number;
  /** Window pairs that fired during the episode. */
  windows: string[];
  /** Highest burn rate (min of long and short error ratio over the budget) seen while firing. */
  peakBurnRate: number;
}

export interface AlertSimOptions {
  windowDays: number;
  /** No alert while the long window holds fewer events (mirrors `Slo.alerting.minEvents`). */
  minEvents?: number;
  /** Firings closer than this are one episode: the on-call is still on the first one. Default 1h. */
  episodeGapMs?: number;
}

/** Per-pair "both windows" error ratio, cached per history so a ladder reuses it for every rung. */
interface PairSeries {
  window: BurnRateWindow;
  /** min(long ratio, short ratio) at each step; NaN when the long window is not full or under minEvents. */
  ratio: Float64Array;
}

const cache = new WeakMap<PreparedHistory, Map<string, PairSeries[]>>();

/** A window of `ms` as a number of steps: never 0, rounded up so a coarse step still sees the event. */
const stepsFor = (h: PreparedHistory, ms: number) => Math.max(1, Math.ceil(ms / h.stepMs - 1e-9));

function trailingRatio(h: PreparedHistory, steps: number): Float64Array {
  const out = new Float64Array(h.n);
  for (let i = 0; i < h.n; i++) {
    const from = Math.max(0, i + 1 - steps);
    const t = h.total[i + 1]! - h.total[from]!;
    out[i] = t > 0 ? Math.max(0, h.bad[i + 1]! - h.bad[from]!) / t : 0;
  }
  return out;
}

function pairSeries(h: PreparedHistory, windowDays: number, minEvents: number): PairSeries[] {
  const key = `${windowDays}:${minEvents}`;
  let perHistory = cache.get(h);
  if (!perHistory) {
    perHistory = new Map();
    cache.set(h, perHistory);
  }
  const hit = perHistory.get(key);
  if (hit) return hit;
  const ratios = new Map<number, Float64Array>();
  const ratioFor = (steps: number) => {
    let r = ratios.get(steps);
    if (!r) {
      r = trailingRatio(h, steps);
      ratios.set(steps, r);
    }
    return r;
  };
  const series = burnRateWindows(windowDays).map((window) => {
    const longSteps = stepsFor(h, window.longMs);
    const long = ratioFor(longSteps);
    const short = ratioFor(stepsFor(h, window.shortMs));
    const ratio = new Float64Array(h.n);
    for (let i = 0; i < h.n; i++) {
      const events = h.total[i + 1]! - h.total[Math.max(0, i + 1 - longSteps)]!;
      // Judged only once the long window lies inside the history: a first step alone is not an hour of errors.
      const judged = i + 1 >= longSteps && !(minEvents > 0 && events < minEvents);
      ratio[i] = judged ? Math.min(long[i]!, short[i]!) : Number.NaN;
    }
    return { window, ratio };
  });
  perHistory.set(key, series);
  return series;
}

/** Simulated page and ticket episodes over the whole history, in time order. */
export function simulateAlerts(
  h: PreparedHistory,
  targetPercent: number,
  opts: AlertSimOptions,
): AlertEpisode[] {
  const budget = 1 - targetPercent / 100;
  const gapSteps = Math.max(1, Math.round((opts.episodeGapMs ?? HOUR_MS) / h.stepMs));
  const series = pairSeries(h, opts.windowDays, opts.minEvents ?? 0);
  const episodes: AlertEpisode[] = [];
  for (const severity of ["page", "ticket"] as const) {
    const pairs = series.filter((s) => s.window.severity === severity);
    let open: AlertEpisode | undefined;
    let lastFiring = -Infinity;
    const thresholds = pairs.map((p) => p.window.factor * budget);
    for (let i = 0; i < h.n; i++) {
      let firing = false;
      // NaN (too few events) compares false, so a quiet window never fires.
      for (let k = 0; k < pairs.length; k++) if (pairs[k]!.ratio[i]! > thresholds[k]!) firing = true;
      if (!firing) continue;
      let burn = 0;
      const names: string[] = [];
      for (let k = 0; k < pairs.length; k++) {
        const r = pairs[k]!.ratio[i]!;
        if (r > thresholds[k]!) {
          names.push(pairs[k]!.window.name);
          burn = Math.max(burn, r / budget);
        }
      }
      if (open && i - lastFiring <= gapSteps) {
        open.end = stepEnd(h, i);
        open.peakBurnRate = Math.max(open.peakBurnRate, burn);
        for (const n of names) if (!open.windows.includes(n)) open.windows.push(n);
      } else {
        open = { severity, start: stepEnd(h, i), end: stepEnd(h, i), windows: names, peakBurnRate: burn };
        episodes.push(open);
      }
      lastFiring = i;
    }
  }
  return episodes.sort((a, b) => a.start - b.start || (a.severity === "page" ? -1 : 1));
}
