import { PrometheusReader, type PrometheusReaderOptions } from "../pipeline/prometheus-reader.js";
import type { Labels, RangeQuerier, RangeResult } from "../promql/types.js";

/**
 * Metric history where a real Prometheus answers the queries (PROMETHEUS_URL): range queries through the
 * pipeline's `PrometheusReader` (which splits long ranges under Prometheus's 11,000-point limit), in the
 * evaluator's result shape, so analysis and the dry-run read either source alike.
 */
export class PrometheusQuerier implements RangeQuerier {
  readonly reader: PrometheusReader;

  constructor(reader: PrometheusReader | string, options?: PrometheusReaderOptions) {
    this.reader = typeof reader === "string" ? new PrometheusReader(reader, options) : reader;
  }

  async queryRange(query: string, startMs: number, endMs: number, stepMs: number): Promise<RangeResult> {
    const timestamps: number[] = [];
    for (let t = startMs; t <= endMs; t += stepMs) timestamps.push(t);
    const n = timestamps.length;
    const raw = await this.reader.queryRange(query, { start: startMs, end: endMs, step: stepMs / 1000 });
    const series = raw.map((s) => {
      const values = new Float64Array(n);
      const present = new Uint8Array(n);
      for (const p of s.samples) {
        const k = Math.round((p.time - startMs) / stepMs);
        if (k < 0 || k >= n) continue;
        present[k] = 1;
        values[k] = p.value;
      }
      return { labels: s.metric as Labels, values, present };
    });
    return { timestamps, series };
  }
}
