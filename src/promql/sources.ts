import type { LabelMatcher } from "./ast.js";
import { lowerBound, upperBound } from "./range-functions.js";
import {
  type Labels,
  labelsKey,
  matches,
  type RangeResult,
  type RawSeries,
  type SeriesSource,
} from "./types.js";

/**
 * The evaluator's in-memory sample sources: held series (tests, dry-run overlays), an overlay and a
 * cache over another source. The sources that read the store or a Prometheus live in src/history.
 */

interface MemorySeries {
  labels: Labels;
  t: Float64Array;
  v: Float64Array;
  stale?: Uint8Array;
}

/** Series held in memory, sorted by time; `add` merges samples into an existing series with the same labels. */
export class MemorySource implements SeriesSource {
  private readonly byName = new Map<string, Map<string, MemorySeries>>();

  constructor(series: RawSeries[] = []) {
    for (const s of series) this.add(s.labels, s.timestamps, s.values);
  }

  /** Adds samples to the series named by `labels.__name__`; a sample at an existing timestamp replaces it. */
  add(
    labels: Labels,
    timestamps: ArrayLike<number>,
    values: ArrayLike<number>,
    stale?: ArrayLike<number>,
  ): void {
    const name = labels.__name__;
    if (!name) throw new Error("a series needs a __name__ label");
    if (timestamps.length !== values.length) throw new Error("timestamps and values differ in length");
    let series = this.byName.get(name);
    if (!series) {
      series = new Map();
      this.byName.set(name, series);
    }
    const key = labelsKey(labels);
    const existing = series.get(key);
    let sorted = true;
    for (let i = 1; i < timestamps.length && sorted; i++) sorted = timestamps[i]! > timestamps[i - 1]!;
    if (!existing && sorted) {
      series.set(key, {
        labels,
        t: Float64Array.from(timestamps),
        v: Float64Array.from(values),
        stale: stale ? Uint8Array.from(stale) : undefined,
      });
      return;
    }
    const points = new Map<number, [number, number]>();
    if (existing) {
      for (let i = 0; i < existing.t.length; i++)
        points.set(existing.t[i]!, [existing.v[i]!, existing.stale?.[i] ?? 0]);
    }
    for (let i = 0; i < timestamps.length; i++) points.set(timestamps[i]!, [values[i]!, stale?.[i] ?? 0]);
    const t = Float64Array.from(points.keys()).sort();
    const v = Float64Array.from(t, (x) => points.get(x)![0]);
    const st = Uint8Array.from(t, (x) => points.get(x)![1]);
    series.set(key, { labels, t, v, stale: st.includes(1) ? st : undefined });
  }

  /**
   * Adds a range-query result as stored series, the way Prometheus's rule manager writes a recording
   * rule's output: one sample per step where the series is present, and a staleness marker at the first
   * step where it has disappeared.
   */
  addResult(result: RangeResult): void {
    for (const s of result.series) {
      const t: number[] = [];
      const v: number[] = [];
      const stale: number[] = [];
      for (let k = 0; k < result.timestamps.length; k++) {
        if (s.present[k]) {
          t.push(result.timestamps[k]!);
          v.push(s.values[k]!);
          stale.push(0);
        } else if (k > 0 && s.present[k - 1]) {
          t.push(result.timestamps[k]!);
          v.push(Number.NaN);
          stale.push(1);
        }
      }
      if (t.length) this.add(s.labels, t, v, stale.includes(1) ? stale : undefined);
    }
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  async select(name: string, matchers: LabelMatcher[], startMs: number, endMs: number): Promise<RawSeries[]> {
    const out: RawSeries[] = [];
    for (const s of this.byName.get(name)?.values() ?? []) {
      if (!matchers.every((m) => matches(s.labels, m))) continue;
      const slice = sliceSeries(s, startMs, endMs);
      if (slice) out.push(slice);
    }
    return out;
  }
}

/** Reads recorded names from `overlay` and everything else from `base` (how dry-run adds recording-rule output). */
export class OverlaySource implements SeriesSource {
  constructor(
    private readonly base: SeriesSource,
    readonly overlay: MemorySource,
  ) {}

  select(name: string, matchers: LabelMatcher[], startMs: number, endMs: number): Promise<RawSeries[]> {
    if (this.overlay.names().includes(name)) return this.overlay.select(name, matchers, startMs, endMs);
    return this.base.select(name, matchers, startMs, endMs);
  }
}

interface CachedSelection {
  start: number;
  end: number;
  series: Map<string, { labels: Labels; t: Float64Array; v: Float64Array; stale: Uint8Array }>;
}

function concat<T extends Float64Array | Uint8Array>(a: T, b: T): T {
  const out = new (a.constructor as { new (n: number): T })(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * Remembers what it read from `base` per selector and fetches only the part of a later, wider time range
 * it has not seen: a dry-run asks for the same selectors once per rule window, each a little further back.
 */
export class CachingSource implements SeriesSource {
  private readonly cache = new Map<string, CachedSelection>();

  constructor(private readonly base: SeriesSource) {}

  async select(name: string, matchers: LabelMatcher[], startMs: number, endMs: number): Promise<RawSeries[]> {
    const key = `${name}\u0000${JSON.stringify(matchers)}`;
    let c = this.cache.get(key);
    if (!c) {
      c = { start: startMs, end: endMs, series: new Map() };
      this.merge(c, await this.base.select(name, matchers, startMs, endMs), "append");
      this.cache.set(key, c);
    } else {
      if (startMs < c.start) {
        this.merge(c, await this.base.select(name, matchers, startMs, c.start - 1), "prepend");
        c.start = startMs;
      }
      if (endMs > c.end) {
        this.merge(c, await this.base.select(name, matchers, c.end + 1, endMs), "append");
        c.end = endMs;
      }
    }
    const out: RawSeries[] = [];
    for (const s of c.series.values()) {
      const slice = sliceSeries(s, startMs, endMs);
      if (slice) out.push(slice);
    }
    return out;
  }

  private merge(c: CachedSelection, fetched: RawSeries[], where: "prepend" | "append"): void {
    for (const r of fetched) {
      const key = labelsKey(r.labels);
      const t = Float64Array.from(r.timestamps);
      const v = Float64Array.from(r.values);
      const stale = r.stale ? Uint8Array.from(r.stale) : new Uint8Array(t.length);
      const s = c.series.get(key);
      if (!s) c.series.set(key, { labels: r.labels, t, v, stale });
      else if (where === "prepend") {
        s.t = concat(t, s.t);
        s.v = concat(v, s.v);
        s.stale = concat(stale, s.stale);
      } else {
        s.t = concat(s.t, t);
        s.v = concat(s.v, v);
        s.stale = concat(s.stale, stale);
      }
    }
  }
}

/** The samples of a stored series within [startMs, endMs], as views (no copy); undefined when none. */
function sliceSeries(
  s: { labels: RawSeries["labels"]; t: Float64Array; v: Float64Array; stale?: Uint8Array },
  startMs: number,
  endMs: number,
): RawSeries | undefined {
  const lo = lowerBound(s.t, startMs);
  const hi = upperBound(s.t, endMs);
  if (hi <= lo) return undefined;
  return {
    labels: s.labels,
    timestamps: s.t.subarray(lo, hi),
    values: s.v.subarray(lo, hi),
    stale: s.stale?.subarray(lo, hi),
  };
}
