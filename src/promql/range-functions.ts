import type { PromqlCompat } from "./types.js";

/**
 * Functions over the samples of one series inside one range window, with Prometheus's semantics
 * (promql/functions.go). A window is the index span [lo, hi] of a series' sorted samples; the caller
 * finds it with a sliding two-pointer scan, so each call costs O(1) or O(window) at most, and the sums
 * of long windows come from prefix sums.
 */

/** Samples of one series plus lazily built indexes that make long windows cheap. */
export class WindowedSeries {
  private resetIdx?: Int32Array;
  private prefix?: { sum: Float64Array; nan: Int32Array; posInf: Int32Array; negInf: Int32Array };

  constructor(
    readonly t: ArrayLike<number>,
    readonly v: ArrayLike<number>,
  ) {}

  /** Indices i ≥ 1 where the value dropped (a counter reset between i-1 and i). */
  resets(): Int32Array {
    if (!this.resetIdx) {
      const out: number[] = [];
      for (let i = 1; i < this.v.length; i++) if (this.v[i]! < this.v[i - 1]!) out.push(i);
      this.resetIdx = Int32Array.from(out);
    }
    return this.resetIdx;
  }

  prefixes() {
    if (!this.prefix) {
      const n = this.v.length;
      const sum = new Float64Array(n + 1);
      const nan = new Int32Array(n + 1);
      const posInf = new Int32Array(n + 1);
      const negInf = new Int32Array(n + 1);
      // Kahan-compensated running sum keeps the differences of long prefixes accurate.
      let s = 0;
      let c = 0;
      for (let i = 0; i < n; i++) {
        const x = this.v[i]!;
        nan[i + 1] = nan[i]! + (Number.isNaN(x) ? 1 : 0);
        posInf[i + 1] = posInf[i]! + (x === Number.POSITIVE_INFINITY ? 1 : 0);
        negInf[i + 1] = negInf[i]! + (x === Number.NEGATIVE_INFINITY ? 1 : 0);
        if (Number.isFinite(x)) {
          const y = x - c;
          const tt = s + y;
          c = tt - s - y;
          s = tt;
        }
        sum[i + 1] = s;
      }
      this.prefix = { sum, nan, posInf, negInf };
    }
    return this.prefix;
  }
}

/** First index i in [lo, hi) with arr[i] > x (or hi). */
export function upperBound(arr: ArrayLike<number>, x: number, lo = 0, hi = arr.length): number {
  let a = lo;
  let b = hi;
  while (a < b) {
    const mid = (a + b) >>> 1;
    if (arr[mid]! > x) b = mid;
    else a = mid + 1;
  }
  return a;
}

/** First index i in [lo, hi) with arr[i] >= x (or hi). */
export function lowerBound(arr: ArrayLike<number>, x: number, lo = 0, hi = arr.length): number {
  let a = lo;
  let b = hi;
  while (a < b) {
    const mid = (a + b) >>> 1;
    if (arr[mid]! >= x) b = mid;
    else a = mid + 1;
  }
  return a;
}

/** Neumaier-compensated summation, as Prometheus 3's kahansum (no allocation per added value). */
export class KahanSum {
  sum = 0;
  c = 0;

  add(inc: number): void {
    const t = this.sum + inc;
    if (!Number.isFinite(t)) this.c = 0;
    else if (Math.abs(this.sum) >= Math.abs(inc)) this.c += this.sum - t + inc;
    else this.c += inc - t + this.sum;
    this.sum = t;
  }

  value(): number {
    return Number.isFinite(this.sum) ? this.sum + this.c : this.sum;
  }
}

export interface WindowContext {
  /** Window bounds in ms: (rangeStart, rangeEnd] (v3) or [rangeStart, rangeEnd] (v2). */
  rangeStartMs: number;
  rangeEndMs: number;
  rangeMs: number;
  compat: PromqlCompat;
}

/** Prometheus's extrapolatedRate: rate (isRate), increase (isCounter), delta (neither). */
export function extrapolatedRate(
  s: WindowedSeries,
  lo: number,
  hi: number,
  ctx: WindowContext,
  isCounter: boolean,
  isRate: boolean,
): number | undefined {
  if (hi - lo < 1) return undefined;
  const { t, v } = s;
  const firstT = t[lo]!;
  const lastT = t[hi]!;
  let result = v[hi]! - v[lo]!;
  if (isCounter) {
    const resets = s.resets();
    for (let k = upperBound(resets, lo); k < resets.length && resets[k]! <= hi; k++) {
      result += v[resets[k]! - 1]!;
    }
  }
  let durationToStart = (firstT - ctx.rangeStartMs) / 1000;
  let durationToEnd = (ctx.rangeEndMs - lastT) / 1000;
  const sampledInterval = (lastT - firstT) / 1000;
  const averageDurationBetweenSamples = sampledInterval / (hi - lo);
  const threshold = averageDurationBetweenSamples * 1.1;
  // A counter cannot go below zero: do not extrapolate past the point where it would reach it. Prometheus
  // 3 applies this after the threshold rule, 2.x before it.
  const durationToZero =
    isCounter && result > 0 && v[lo]! >= 0 ? sampledInterval * (v[lo]! / result) : Number.POSITIVE_INFINITY;
  if (ctx.compat === "v3") {
    if (durationToStart >= threshold) durationToStart = averageDurationBetweenSamples / 2;
    if (durationToZero < durationToStart) durationToStart = durationToZero;
  } else {
    if (durationToZero < durationToStart) durationToStart = durationToZero;
    if (durationToStart >= threshold) durationToStart = averageDurationBetweenSamples / 2;
  }
  if (durationToEnd >= threshold) durationToEnd = averageDurationBetweenSamples / 2;
  let factor = (sampledInterval + durationToStart + durationToEnd) / sampledInterval;
  if (isRate) factor /= ctx.rangeMs / 1000;
  return result * factor;
}

/** irate / idelta: from the last two samples of the window. */
export function instantRate(s: WindowedSeries, lo: number, hi: number, isRate: boolean): number | undefined {
  if (hi - lo < 1) return undefined;
  const last = s.v[hi]!;
  const prev = s.v[hi - 1]!;
  let result = isRate && last < prev ? last : last - prev;
  const interval = s.t[hi]! - s.t[hi - 1]!;
  if (interval === 0) return undefined;
  if (isRate) result /= interval / 1000;
  return result;
}

/** Windows longer than this use prefix sums rather than a loop. */
const DIRECT_SUM_LIMIT = 512;

export function sumOverTime(s: WindowedSeries, lo: number, hi: number, compat: PromqlCompat): number {
  if (hi - lo + 1 > DIRECT_SUM_LIMIT) {
    const p = s.prefixes();
    const nan = p.nan[hi + 1]! - p.nan[lo]!;
    const pos = p.posInf[hi + 1]! - p.posInf[lo]!;
    const neg = p.negInf[hi + 1]! - p.negInf[lo]!;
    if (nan > 0 || (pos > 0 && neg > 0)) return Number.NaN;
    if (pos > 0) return Number.POSITIVE_INFINITY;
    if (neg > 0) return Number.NEGATIVE_INFINITY;
    return p.sum[hi + 1]! - p.sum[lo]!;
  }
  if (compat === "v2") {
    let sum = 0;
    for (let i = lo; i <= hi; i++) sum += s.v[i]!;
    return sum;
  }
  const k = new KahanSum();
  for (let i = lo; i <= hi; i++) k.add(s.v[i]!);
  return k.value();
}

/** Mean of the window; Prometheus's own incremental-mean variants differ only in the last bits. */
export function avgOverTime(s: WindowedSeries, lo: number, hi: number, compat: PromqlCompat): number {
  return sumOverTime(s, lo, hi, compat) / (hi - lo + 1);
}

export function minMaxOverTime(s: WindowedSeries, lo: number, hi: number, max: boolean): number {
  let m = s.v[lo]!;
  for (let i = lo + 1; i <= hi; i++) {
    const x = s.v[i]!;
    if ((max ? x > m : x < m) || Number.isNaN(m)) m = x;
  }
  return m;
}
