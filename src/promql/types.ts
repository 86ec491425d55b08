import type { LabelMatcher } from "./ast.js";

/** A series' labels, `__name__` included when the series has a name. */
export type Labels = Readonly<Record<string, string>>;

/** Stored samples of one series: timestamps in ms, ascending, and the values at them. */
export interface RawSeries {
  labels: Labels;
  timestamps: ArrayLike<number>;
  values: ArrayLike<number>;
  /**
   * 1 where the sample is a staleness marker (Prometheus writes one when a rule's output series
   * disappears): an instant selector sees nothing from it on, and range functions skip it.
   */
  stale?: ArrayLike<number>;
}

/**
 * Where the evaluator reads samples from. `select` returns every series named `name` whose labels
 * satisfy all `matchers`, with their samples whose timestamp lies in [startMs, endMs].
 */
export interface SeriesSource {
  select(name: string, matchers: LabelMatcher[], startMs: number, endMs: number): Promise<RawSeries[]>;
}

/**
 * Which Prometheus's semantics to reproduce where versions differ: "v3" (3.x: ranges and the lookback
 * window are left-open, Kahan summation, zero-point clamp after the extrapolation threshold) or "v2"
 * (2.x, e.g. Debian 12's 2.42: closed ranges, plain sums, zero-point clamp before the threshold).
 */
export type PromqlCompat = "v2" | "v3";

export interface EvalOptions {
  /** How far an instant selector looks back for the latest sample (Prometheus default 5m). */
  lookbackDeltaMs?: number;
  /** Step of subqueries written without one (`x[5m:]`): Prometheus's global evaluation interval, 1m by default. */
  subqueryStepMs?: number;
  compat?: PromqlCompat;
}

/** One series of a range-query result; `present[i]` says whether there is a sample at step i. */
export interface ResultSeries {
  labels: Labels;
  values: Float64Array;
  present: Uint8Array;
}

export interface RangeResult {
  /** Evaluation timestamps in ms: start, start + step, … ≤ end. */
  timestamps: number[];
  series: ResultSeries[];
}

/** Anything that answers PromQL range queries: the embedded evaluator or a Prometheus. */
export interface RangeQuerier {
  queryRange(query: string, startMs: number, endMs: number, stepMs: number): Promise<RangeResult>;
}

/** A stable key for a label set (order-independent). */
export function labelsKey(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  let out = "";
  for (const k of keys) out += `${k}\u0000${labels[k]}\u0001`;
  return out;
}

/** `{__name__="x", a="b"}` rendered the way Prometheus prints series: `x{a="b"}`. */
export function formatLabels(labels: Labels): string {
  const name = labels.__name__ ?? "";
  const rest = Object.keys(labels)
    .filter((k) => k !== "__name__")
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`);
  return `${name}{${rest.join(", ")}}`;
}

const regexCache = new Map<string, RegExp>();

/** Prometheus regex matchers are fully anchored; `.` matches newlines as in Prometheus 3. */
export function anchoredRegex(pattern: string): RegExp {
  let re = regexCache.get(pattern);
  if (!re) {
    re = new RegExp(`^(?:${pattern})$`, "s");
    regexCache.set(pattern, re);
  }
  return re;
}

/** Whether `labels` satisfy `m`; a missing label is the empty string, as in Prometheus. */
export function matches(labels: Labels, m: LabelMatcher): boolean {
  const v = labels[m.name] ?? "";
  switch (m.op) {
    case "=":
      return v === m.value;
    case "!=":
      return v !== m.value;
    case "=~":
      return anchoredRegex(m.value).test(v);
    case "!~":
      return !anchoredRegex(m.value).test(v);
  }
}
