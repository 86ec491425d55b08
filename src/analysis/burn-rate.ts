import {
  type BurnRateWindow,
  burnRateWindows,
  mwmbWindows,
  type Severity,
  WindowsCatalog,
} from "../core/alert-windows.js";
import { formatDuration } from "../core/duration.js";
import { DAY_MS, HOUR_MS, type PreparedHistory, stepEnd } from "./history.js";

/**
 * Replays multi-window multi-burn-rate alerts (SRE Workbook ch. 5, as the generators write them) over a
 * history: a pair fires when the error ratio over BOTH its long and short window exceeds
 * `factor × (1 − target)`; pairs of one severity are OR'ed. The pairs and their factors come from the same
 * windows catalog as the generated alert rules, so a simulation replays the alerts that would be shipped.
 */

const BUILT_IN = new WindowsCatalog();

/** A window pair as a simulation reports it: the catalog's pair, named (`1h/5m`), with its budget share. */
export interface SimulatedWindow extends BurnRateWindow {
  name: string;
  /** Share of the period's budget the long window may burn before firing, in percent. */
  budgetPercent: number;
}

/** The window pairs of an SLO period of `windowDays` in `catalog` (default: the built-in catalog). */
export function simulatedWindows(windowDays: number, catalog: WindowsCatalog = BUILT_IN): SimulatedWindow[] {
  const windows = catalog.get(windowDays * DAY_MS);
  const share = { page: windows.page, ticket: windows.ticket };
  return burnRateWindows(mwmbWindows(windows)).map((w) => ({
    ...w,
    name: `${formatDuration(w.longWindowMs)}/${formatDuration(w.shortWindowMs)}`,
    budgetPercent: share[w.severity][w.speed].errorBudgetPercent,
  }));
}

export interface AlertEpisode {
  severity: Severity;
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
  /** Where the window pairs come from (a custom catalog, as `generate --windows` takes); default built-in. */
  windows?: WindowsCatalog;
  /** No alert while the long window holds fewer events (mirrors `Slo.alerting.minEvents`). */
  minEvents?: number;
  /** Firings closer than this are one episode: the on-call is still on the first one. Default 1h. */
  episodeGapMs?: number;
}

/** A pair with its "both windows" error ratio at each step. */
interface PairSeries {
  window: SimulatedWindow;
  /** min(long ratio, short ratio) at each step; NaN when the long window is not full or under minEvents. */
  ratio: Float64Array;
}

/**
 * Pair ratios per history, keyed by the pair's long and short steps and minEvents (not by its factor, which
 * applies afterwards), so a ladder reuses them for every rung and catalogs sharing a pair share its ratio.
 */
const cache = new WeakMap<PreparedHistory, Map<string, Float64Array>>();

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

function pairSeries(h: PreparedHistory, windows: SimulatedWindow[], minEvents: number): PairSeries[] {
  let perHistory = cache.get(h);
  if (!perHistory) {
    perHistory = new Map();
    cache.set(h, perHistory);
  }
  const stored = perHistory;
  const ratios = new Map<number, Float64Array>();
  const ratioFor = (steps: number) => {
    let r = ratios.get(steps);
    if (!r) {
      r = trailingRatio(h, steps);
      ratios.set(steps, r);
    }
    return r;
  };
  return windows.map((window) => {
    const longSteps = stepsFor(h, window.longWindowMs);
    const shortSteps = stepsFor(h, window.shortWindowMs);
    const key = `${longSteps}:${shortSteps}:${minEvents}`;
    let ratio = stored.get(key);
    if (!ratio) {
      const long = ratioFor(longSteps);
      const short = ratioFor(shortSteps);
      ratio = new Float64Array(h.n);
      for (let i = 0; i < h.n; i++) {
        const events = h.total[i + 1]! - h.total[Math.max(0, i + 1 - longSteps)]!;
        // Judged only once the long window lies inside the history: a first step alone is not an hour of errors.
        const judged = i + 1 >= longSteps && !(minEvents > 0 && events < minEvents);
        ratio[i] = judged ? Math.min(long[i]!, short[i]!) : Number.NaN;
      }
      stored.set(key, ratio);
    }
    return { window, ratio };
  });
}

/** Simulated page and ticket episodes over the whole history, in time order. */
export function simulateAlerts(
  h: PreparedHistory,
  targetPercent: number,
  opts: AlertSimOptions,
): AlertEpisode[] {
  const budget = 1 - targetPercent / 100;
  const gapSteps = Math.max(1, Math.round((opts.episodeGapMs ?? HOUR_MS) / h.stepMs));
  const series = pairSeries(h, simulatedWindows(opts.windowDays, opts.windows), opts.minEvents ?? 0);
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
