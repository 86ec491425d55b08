import type { LabelMatcher } from "../promql/ast.js";
import { Evaluator } from "../promql/evaluate.js";
import { CachingSource } from "../promql/sources.js";
import type { RangeQuerier, RawSeries, SeriesSource } from "../promql/types.js";
import type { Sql } from "../store/ports.js";
import { querySamples } from "../store/repos/metric-samples.js";

/**
 * Metric history in embedded mode: the evaluator's sample source over the store's
 * `metric_series`/`metric_samples` tables. It lives here, not in promql, so the evaluator stays free of
 * storage and can run over any source.
 */
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

/** The embedded querier: SLO-Scout's evaluator over the stored samples. */
export function storeQuerier(sql: Sql): RangeQuerier {
  // Good and total read the same series: read them once.
  return new Evaluator(new CachingSource(new StoreSource(sql)));
}
