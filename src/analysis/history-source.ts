import type { WebVitalStats } from "../core/aggregates.js";

export type { RangeQuerier } from "../promql/index.js";

import type { LatencyHistory, SliHistory } from "../core/history.js";
import { PrometheusReader } from "../pipeline/prometheus-reader.js";
import { Evaluator, type MemorySource, type RangeQuerier, type RangeResult } from "../promql/index.js";
import type { Sql } from "../store/ports.js";
import { listMetricNames, listSeries } from "../store/repos/metric-samples.js";
import { type LogWindowCounts, logEventCounters, sampleCounter, webVitalCounters } from "./derived-series.js";
import { HistoryError } from "./history.js";
import {
  type CounterQuery,
  increaseQuery,
  inventoryOf,
  type Labels,
  type LatencySource,
  type MetricInventory,
} from "./sli.js";
import { latencyHistoryFromCumulative } from "./targets.js";

/**
 * SLI history read through PromQL: the good and total queries of a candidate are evaluated over a
 * range at a fixed step, in embedded mode by SLO-Scout's evaluator over the stored samples, with
 * PROMETHEUS_URL by Prometheus itself. So the attainment a proposal shows is what its PromQL measures.
 */

export interface HistoryRange {
  /** Evaluation times start + k·step ≤ end; each point counts the events of the step that ends at it. */
  start: number;
  end: number;
  stepMs: number;
}

/**
 * The range of the `increase()` that counts one step's events: one millisecond longer than the step, so
 * the sample that closes the previous step is inside the (left-open) range and consecutive steps neither
 * overlap nor leave a gap, even when samples are exactly one step apart. Extrapolation then stretches a
 * count by at most 1 ms / step (3·10⁻⁶ at 5m), the same for good and total.
 */
export const stepRange = (stepMs: number) => `${stepMs + 1}ms`;

/** One value per step (undefined where the query has no sample), summing every returned series. */
function perStep(result: RangeResult, n: number): Array<number | undefined> {
  const out = new Array<number | undefined>(n).fill(undefined);
  for (const s of result.series) {
    for (let i = 0; i < n; i++) {
      if (!s.present[i]) continue;
      const v = s.values[i]!;
      if (!Number.isFinite(v)) continue;
      out[i] = (out[i] ?? 0) + v;
    }
  }
  return out;
}

export function gridOf(range: HistoryRange): number[] {
  const ts: number[] = [];
  for (let t = range.start; t <= range.end; t += range.stepMs) ts.push(t);
  return ts;
}

/**
 * Good/total per step from a candidate's queries. A step where total has no sample is a gap (no data);
 * a step with a total but no good sample has zero good events (every event was bad).
 */
export async function readSliHistory(
  querier: RangeQuerier,
  queries: { good: CounterQuery; total: CounterQuery },
  range: HistoryRange,
  source?: string,
): Promise<SliHistory> {
  const w = stepRange(range.stepMs);
  const [good, total] = await Promise.all([
    querier.queryRange(increaseQuery(queries.good, w), range.start, range.end, range.stepMs),
    querier.queryRange(increaseQuery(queries.total, w), range.start, range.end, range.stepMs),
  ]);
  const ts = total.timestamps;
  const g = perStep(good, ts.length);
  const t = perStep(total, ts.length);
  const points: SliHistory["points"] = [];
  for (let i = 0; i < ts.length; i++) {
    const tot = t[i];
    if (tot === undefined) continue;
    points.push({ t: ts[i]!, good: Math.max(0, g[i] ?? 0), total: Math.max(0, tot) });
  }
  return { stepMs: range.stepMs, points, ...(source ? { source } : {}) };
}

/** Per-step bucket counts of a latency histogram: `sum by (le) (increase(bucket[step]))`. */
export async function readLatencyHistory(
  querier: RangeQuerier,
  l: LatencySource,
  range: HistoryRange,
): Promise<LatencyHistory> {
  const sel = increaseQuery({ metric: l.bucket, matchers: l.matchers }, stepRange(range.stepMs)).replace(
    /^sum\(/,
    "sum by (le) (",
  );
  const result = await querier.queryRange(sel, range.start, range.end, range.stepMs);
  const byLe = new Map(result.series.map((s) => [s.labels.le ?? "", s]));
  const columns = [...l.bounds.map((b) => b.le), l.infLe].map((le) => byLe.get(le));
  const points: Array<{ t: number; cumulative: number[] }> = [];
  result.timestamps.forEach((t, i) => {
    const inf = columns[columns.length - 1];
    if (!inf?.present[i]) return;
    points.push({ t, cumulative: columns.map((c) => (c?.present[i] ? Math.max(0, c.values[i]!) : 0)) });
  });
  return latencyHistoryFromCumulative({
    stepMs: range.stepMs,
    leMs: l.bounds.map((b) => b.ms),
    points,
    source: l.source,
  });
}

// ── series inventories ─────────────────────────────────────────────────────────────────────────────

/** Which request-metric series exist: the names and label sets SLI candidates are built from. */
export interface MetricCatalog {
  requestSeries(): Promise<{ name: string; labels: Labels }[]>;
}

/** Names that could be request metrics (a store can hold thousands of others). */
export const REQUEST_METRIC_NAME =
  /^(http_\w+|traces_spanmetrics_\w+|traces_span_metrics_\w+|calls(_total)?|duration_\w+|latency_bucket)$/;
const REQUEST_METRIC_PROMQL =
  "http_.+|traces_spanmetrics_.+|traces_span_metrics_.+|calls(_total)?|duration_.+|latency_bucket";

export function storeCatalog(sql: Sql): MetricCatalog {
  return {
    async requestSeries() {
      const names = (await listMetricNames(sql)).filter((n) => REQUEST_METRIC_NAME.test(n));
      const all = await Promise.all(names.map((name) => listSeries(sql, { name })));
      return all.flat();
    },
  };
}

/** Series of the request-metric families from Prometheus' series API, over the analysed range. */
export function prometheusCatalog(
  reader: PrometheusReader | string,
  range?: { start: number; end: number },
): MetricCatalog {
  const r = typeof reader === "string" ? new PrometheusReader(reader) : reader;
  return {
    async requestSeries() {
      const sets = await r.series([`{__name__=~"${REQUEST_METRIC_PROMQL}"}`], range ?? {});
      return sets.map(({ __name__, ...labels }) => ({ name: __name__ ?? "", labels })).filter((s) => s.name);
    },
  };
}

/** The inventory of request-metric families plus the series SLO-Scout derives itself. */
export async function loadInventory(
  catalog: MetricCatalog,
  extra: MemorySource | undefined,
): Promise<MetricInventory> {
  const series = await catalog.requestSeries();
  if (extra) {
    for (const n of extra.names()) {
      for (const s of await extra.select(n, [], Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY)) {
        series.push({ name: n, labels: s.labels as Labels });
      }
    }
  }
  return inventoryOf(series);
}

// ── derived series: log capsules and web vitals as counters ───────────────────────────────────────

/** `slo_scout_log_events_total{service, fingerprint, severity}` from capsule severity counts. */
export function addLogSeries(
  src: MemorySource,
  capsules: readonly LogWindowCounts[],
  range: HistoryRange,
): void {
  for (const c of logEventCounters(capsules)) {
    const s = sampleCounter(c, range);
    if (s.timestamps.length) src.add(s.labels, s.timestamps, s.values);
  }
}

/** `slo_scout_web_vital_bucket{service, page, vital, le}` (with `_count`, `_sum`) from web-vital histograms. */
export function addWebVitalSeries(
  src: MemorySource,
  stats: readonly WebVitalStats[],
  range: HistoryRange,
): void {
  for (const c of webVitalCounters(stats)) {
    const s = sampleCounter(c, range);
    if (s.timestamps.length) src.add(s.labels, s.timestamps, s.values);
  }
}

/**
 * Routes each query to where its series live: SLO-Scout's derived series to a local evaluator over
 * memory, everything else to the main querier (stored samples or Prometheus).
 */
export function routedQuerier(main: RangeQuerier, derived: MemorySource): RangeQuerier {
  const local = new Evaluator(derived);
  const names = new Set(derived.names());
  return {
    queryRange(query, start, end, step) {
      const usesDerived = [...names].some((n) => query.includes(n));
      return (usesDerived ? local : main).queryRange(query, start, end, step);
    },
  };
}

/**
 * The newest stored metric sample, or undefined when none is stored: the newest of each series, read
 * backwards on the primary key (series_id, time), as no index on time alone is kept (the writes pay for
 * every index, a row per sample).
 */
export async function latestSampleTime(sql: Sql): Promise<number | undefined> {
  const { rows } = await sql.query<{ t: number | string | null }>(
    `SELECT max(m.time) AS t FROM metric_series s
       CROSS JOIN LATERAL (
         SELECT x.time FROM metric_samples x WHERE x.series_id = s.series_id ORDER BY x.time DESC LIMIT 1
       ) m`,
  );
  const t = rows[0]?.t;
  return t === null || t === undefined ? undefined : Number(t);
}

export function checkRange(range: HistoryRange): void {
  if (!(range.stepMs > 0) || range.end < range.start) {
    throw new HistoryError(`invalid history range ${range.start}..${range.end} at step ${range.stepMs} ms`);
  }
}
