import type { WebVitalStats } from "../core/aggregates.js";
import { LOG_EVENTS, WEB_VITAL_BUCKET, WEB_VITAL_COUNT, WEB_VITAL_SUM } from "./sli.js";

/**
 * The series SLO-Scout derives from what the stream stage stored, as Prometheus counters: log lines per
 * service, fingerprint and severity (from the hourly capsules) and web-vital histograms per service (the
 * Faro app), page and vital (from the hourly RUM aggregates). Analysis evaluates its log and RUM SLIs
 * over them, and the same series are written to a Prometheus (`slo-scout export-derived`), so the
 * generated rules query there exactly what analysis measured. Pure: aggregates and a sample grid in,
 * series out.
 *
 * A counter is cumulative and sampled at every step of one grid; an hour's events appear at the first
 * step at or after the hour's end. It exists from the grid point at or before the first window of its
 * signal (a service's logs; a service, page and vital's page loads), holding zero there: a step before
 * the first log line or page load is a gap, not a zero, so the history's length is the data's. The series
 * of one signal share their timestamps, so `increase()` over any range extrapolates its good and total
 * series alike and their ratio is exact.
 */

const HOUR_MS = 3_600_000;

export interface SampleGrid {
  /** First sample time (ms); samples at start + k·stepMs ≤ end. */
  start: number;
  end: number;
  stepMs: number;
}

/** A cumulative counter as the times its value changes: `[time, value from then on]`, ascending. */
export interface DerivedCounter {
  /** `__name__` included. */
  labels: Record<string, string>;
  /** Start of the first window of the counter's signal: the counter exists from the grid point at or before it. */
  since: number;
  changes: Array<[number, number]>;
}

export interface DerivedSeries {
  labels: Record<string, string>;
  timestamps: number[];
  values: number[];
}

/** One fingerprint's log lines in one hourly window, by severity. */
export interface LogWindowCounts {
  service: string;
  fingerprint: string;
  windowStart: number;
  severityCounts: Partial<Record<string, number>>;
}

/**
 * The counter's value at each grid point in [from, until), from the grid point at or before its `since`
 * on (0 there and before its first change).
 */
export function sampleCounter(
  c: DerivedCounter,
  grid: SampleGrid,
  from = Number.NEGATIVE_INFINITY,
  until = Number.POSITIVE_INFINITY,
): DerivedSeries {
  const exists = grid.start + Math.max(0, Math.floor((c.since - grid.start) / grid.stepMs)) * grid.stepMs;
  const lower = Math.max(exists, from);
  const first = grid.start + Math.max(0, Math.ceil((lower - grid.start) / grid.stepMs)) * grid.stepMs;
  // The last change at or before the first sample, found by bisection, then a walk.
  let lo = 0;
  let hi = c.changes.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (c.changes[mid]![0] <= first) lo = mid + 1;
    else hi = mid;
  }
  let i = lo;
  let value = i > 0 ? c.changes[i - 1]![1] : 0;
  const timestamps: number[] = [];
  const values: number[] = [];
  for (let t = first; t <= grid.end && t < until; t += grid.stepMs) {
    while (i < c.changes.length && c.changes[i]![0] <= t) value = c.changes[i++]![1];
    timestamps.push(t);
    values.push(value);
  }
  return { labels: c.labels, timestamps, values };
}

class Accumulator {
  private readonly series = new Map<
    string,
    { labels: Record<string, string>; signal: string; windows: Map<number, number> }
  >();
  private readonly firstWindow = new Map<string, number>();

  add(signal: string, labels: Record<string, string>, windowStart: number, n: number): void {
    this.firstWindow.set(
      signal,
      Math.min(this.firstWindow.get(signal) ?? Number.POSITIVE_INFINITY, windowStart),
    );
    if (!n) return;
    const key = JSON.stringify(labels);
    let s = this.series.get(key);
    if (!s) {
      s = { labels, signal, windows: new Map() };
      this.series.set(key, s);
    }
    s.windows.set(windowStart, (s.windows.get(windowStart) ?? 0) + n);
  }

  /** An hour's events count from the hour's end on. */
  counters(): DerivedCounter[] {
    return [...this.series.values()].map((s) => {
      let cum = 0;
      const changes = [...s.windows.entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([start, n]): [number, number] => {
          cum += n;
          return [start + HOUR_MS, cum];
        });
      return { labels: s.labels, since: this.firstWindow.get(s.signal)!, changes };
    });
  }
}

/** `slo_scout_log_events_total{service, fingerprint, severity}`. */
export function logEventCounters(windows: readonly LogWindowCounts[]): DerivedCounter[] {
  const acc = new Accumulator();
  for (const c of windows) {
    for (const [severity, n] of Object.entries(c.severityCounts)) {
      acc.add(
        c.service,
        { __name__: LOG_EVENTS, service: c.service, fingerprint: c.fingerprint, severity },
        c.windowStart,
        n ?? 0,
      );
    }
  }
  return acc.counters();
}

/**
 * `slo_scout_web_vital_bucket{service, page, vital, le}` (cumulative buckets, `le` in the vital's unit:
 * ms, unitless for CLS) with `slo_scout_web_vital_count` and `slo_scout_web_vital_sum`.
 */
export function webVitalCounters(stats: readonly WebVitalStats[]): DerivedCounter[] {
  const acc = new Accumulator();
  for (const s of stats) {
    const base = { service: s.service, page: s.page, vital: s.metric };
    const signal = JSON.stringify(base);
    let cum = 0;
    const les = [...s.histogram.bounds.map(String), "+Inf"];
    les.forEach((le, i) => {
      cum += s.histogram.counts[i] ?? 0;
      acc.add(signal, { __name__: WEB_VITAL_BUCKET, ...base, le }, s.windowStart, cum);
    });
    acc.add(signal, { __name__: WEB_VITAL_COUNT, ...base }, s.windowStart, cum);
    acc.add(signal, { __name__: WEB_VITAL_SUM, ...base }, s.windowStart, s.histogram.sum);
  }
  return acc.counters();
}
