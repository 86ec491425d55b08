import type { Sql } from "../store/ports.js";
import { querySamples } from "../store/repos/metric-samples.js";
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
 * Sample sources for the evaluator — in memory (tests, dry-run overlays), the embedded store's
 * `metric_samples` table — and a minimal Prometheus HTTP client for the path where a real Prometheus
 * answers the queries itself.
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
      const lo = lowerBound(s.t, startMs);
      const hi = upperBound(s.t, endMs);
      if (hi <= lo) continue;
      out.push({
        labels: s.labels,
        timestamps: s.t.subarray(lo, hi),
        values: s.v.subarray(lo, hi),
        stale: s.stale?.subarray(lo, hi),
      });
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

/** The embedded store's `metric_series`/`metric_samples` tables. */
export class StoreSource implements SeriesSource {
  constructor(private readonly sql: Sql) {}

  async select(name: string, matchers: LabelMatcher[], startMs: number, endMs: number): Promise<RawSeries[]> {
    const rows = await querySamples(this.sql, { name, matchers, start: startMs, end: endMs });
    return rows.map((s) => ({
      labels: { ...s.labels, __name__: s.name },
      // bigint columns may arrive as strings from pg.
      timestamps: Float64Array.from(s.samples, (p) => Number(p.time)),
      values: Float64Array.from(s.samples, (p) => Number(p.value)),
    }));
  }
}

/** Prometheus's answers come back in this shape (one series of a `query_range` matrix). */
interface PromMatrixSeries {
  metric: Record<string, string>;
  values: [number, string][];
}

/** Prometheus refuses a query_range that would return more than 11,000 points per series. */
const MAX_POINTS_PER_QUERY = 10_000;

function parsePromValue(v: string): number {
  if (v === "+Inf") return Number.POSITIVE_INFINITY;
  if (v === "-Inf") return Number.NEGATIVE_INFINITY;
  return Number(v);
}

/** A minimal client for Prometheus's HTTP API: `query_range` with chunking past the 11,000-point limit. */
export class PrometheusClient {
  private readonly base: string;

  constructor(
    url: string,
    private readonly options: { timeoutMs?: number; headers?: Record<string, string> } = {},
  ) {
    this.base = url.replace(/\/+$/, "");
  }

  /** GET without parameters, POST (form-encoded, as Prometheus accepts for queries) with them. */
  private async get(path: string, params: Record<string, string>): Promise<unknown> {
    const hasParams = Object.keys(params).length > 0;
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, {
        method: hasParams ? "POST" : "GET",
        headers: hasParams
          ? { "content-type": "application/x-www-form-urlencoded", ...this.options.headers }
          : { ...this.options.headers },
        body: hasParams ? new URLSearchParams(params) : undefined,
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 60_000),
      });
    } catch (err) {
      throw new Error(`Prometheus at ${this.base} did not answer: ${(err as Error).message}`);
    }
    const text = await res.text();
    let json: { status?: string; data?: unknown; error?: string; errorType?: string };
    try {
      json = JSON.parse(text);
    } catch {
      throw new Error(
        `Prometheus at ${this.base}${path} answered ${res.status} with non-JSON: ${text.slice(0, 200)}`,
      );
    }
    if (json.status !== "success") {
      throw new Error(
        `Prometheus ${path} failed (${res.status} ${json.errorType ?? ""}): ${json.error ?? text.slice(0, 200)}`,
      );
    }
    return json.data;
  }

  /** The server's version string (e.g. "2.42.0"), from /api/v1/status/buildinfo. */
  async version(): Promise<string> {
    const data = (await this.get("/api/v1/status/buildinfo", {})) as { version?: string };
    return data.version ?? "unknown";
  }

  /** `query_range` in the evaluator's result shape; long ranges are split into several requests. */
  async queryRange(query: string, startMs: number, endMs: number, stepMs: number): Promise<RangeResult> {
    const timestamps: number[] = [];
    for (let t = startMs; t <= endMs; t += stepMs) timestamps.push(t);
    const n = timestamps.length;
    const bySeries = new Map<string, { labels: Labels; values: Float64Array; present: Uint8Array }>();
    for (let first = 0; first < n; first += MAX_POINTS_PER_QUERY) {
      const last = Math.min(n - 1, first + MAX_POINTS_PER_QUERY - 1);
      const data = (await this.get("/api/v1/query_range", {
        query,
        start: String(timestamps[first]! / 1000),
        end: String(timestamps[last]! / 1000),
        step: String(stepMs / 1000),
      })) as { resultType: string; result: PromMatrixSeries[] };
      if (data.resultType !== "matrix")
        throw new Error(`query_range returned ${data.resultType}, expected matrix`);
      for (const s of data.result) {
        const key = labelsKey(s.metric);
        let out = bySeries.get(key);
        if (!out) {
          out = { labels: s.metric, values: new Float64Array(n), present: new Uint8Array(n) };
          bySeries.set(key, out);
        }
        for (const [sec, val] of s.values) {
          const k = Math.round((sec * 1000 - startMs) / stepMs);
          if (k < 0 || k >= n) continue;
          out.present[k] = 1;
          out.values[k] = parsePromValue(val);
        }
      }
    }
    return { timestamps, series: [...bySeries.values()] };
  }
}
