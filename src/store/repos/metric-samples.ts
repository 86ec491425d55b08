import { createHash } from "node:crypto";
import type { MetricSeries } from "../../core/telemetry.js";
import type { Sql } from "../ports.js";

/**
 * Metric samples for the embedded mode (no Prometheus): series are stored once, samples keyed by
 * (series, time) so a retried remote_write batch inserts nothing twice. Times are whole milliseconds, the
 * resolution Prometheus keeps.
 */

/** A stable id for a series: sha256 of the name and its sorted labels. */
export function seriesId(name: string, labels: Record<string, string>): string {
  const canonical = [
    name,
    ...Object.keys(labels)
      .sort()
      .map((k) => `${k}\u0000${labels[k]}`),
  ].join("\u0001");
  return createHash("sha256").update(canonical).digest("hex").slice(0, 32);
}

/**
 * Series a caller knows are stored (by its own committed inserts), so their rows are not offered again:
 * offering 5,000 known series a batch cost the stream stage a tenth of its time on samples. `offered`
 * collects the ids offered, which the caller adds to `known` once its transaction has committed.
 */
export interface SeriesMemo {
  known: ReadonlySet<string>;
  offered: string[];
}

function arrayLiteral(elements: (string | number)[]): string {
  return `{${elements.join(",")}}`;
}

/** Inserts the samples not stored yet; returns how many were new. */
export async function insertSamples(sql: Sql, series: MetricSeries[], memo?: SeriesMemo): Promise<number> {
  if (series.length === 0) return 0;
  const seriesRows = new Map<string, { series_id: string; name: string; labels: Record<string, string> }>();
  // Column arrays rather than one JSON document of rows: parsing the JSON cost more than the inserts.
  const ids: string[] = [];
  const times: number[] = [];
  const values: string[] = [];
  for (const s of series) {
    const { __name__: _drop, ...labels } = s.labels;
    const id = seriesId(s.name, labels);
    if (!memo?.known.has(id)) seriesRows.set(id, { series_id: id, name: s.name, labels });
    for (const p of s.samples) {
      ids.push(id);
      times.push(Math.floor(p.time));
      // float8 parses the text forms of NaN and ±Inf, which array parameters cannot carry as numbers.
      values.push(String(p.value));
    }
  }
  return sql.transaction(async (tx) => {
    if (seriesRows.size > 0) {
      await tx.query(
        `INSERT INTO metric_series (series_id, name, labels)
         SELECT series_id, name, labels FROM jsonb_to_recordset($1::jsonb) AS r(series_id text, name text, labels jsonb)
         ON CONFLICT (series_id) DO NOTHING`,
        [JSON.stringify([...seriesRows.values()])],
      );
      if (memo) for (const id of seriesRows.keys()) memo.offered.push(id);
    }
    // NOT EXISTS rather than ON CONFLICT DO NOTHING: the speculative insertion behind ON CONFLICT was
    // about a third of a sample's insert on PGlite. A sample given twice keeps its first value, as before;
    // a writer inserting the same sample at the same moment fails on the key instead of waiting it out
    // (the stream stage's writers are serialized by the window lock, and a failed write is retried).
    const result = await tx.query(
      `INSERT INTO metric_samples (series_id, time, value)
       SELECT DISTINCT ON (r.series_id, r.time) r.series_id, r.time, r.value::float8
         FROM unnest($1::text[], $2::bigint[], $3::text[]) WITH ORDINALITY AS r(series_id, time, value, n)
        WHERE NOT EXISTS (SELECT 1 FROM metric_samples m WHERE m.series_id = r.series_id AND m.time = r.time)
        ORDER BY r.series_id, r.time, r.n`,
      // Array literals written here rather than arrays for the driver to quote element by element (a
      // tenth of the samples' CPU on PGlite): no element needs quoting, ids being hex and the rest numbers.
      [arrayLiteral(ids), arrayLiteral(times), arrayLiteral(values)],
    );
    return result.rowCount;
  });
}

/** A Prometheus label matcher; a missing label matches as the empty string, as in PromQL. */
export interface LabelMatcher {
  name: string;
  op: "=" | "!=" | "=~" | "!~";
  value: string;
}

export interface SampleQuery {
  /** Metric name; may also be given as a `__name__` matcher. */
  name?: string;
  matchers?: LabelMatcher[];
  /** Inclusive range, epoch ms. */
  start: number;
  end: number;
}

export interface StoredSeries {
  name: string;
  labels: Record<string, string>;
  samples: { time: number; value: number }[];
}

const OPS: Record<LabelMatcher["op"], string> = { "=": "=", "!=": "<>", "=~": "~", "!~": "!~" };

function seriesWhere(q: { name?: string; matchers?: LabelMatcher[] }, params: unknown[]): string[] {
  const where: string[] = [];
  const bind = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  if (q.name !== undefined) where.push(`s.name = ${bind(q.name)}`);
  for (const m of q.matchers ?? []) {
    if (!(m.op in OPS))
      throw new Error(`unknown label matcher operator ${JSON.stringify(m.op)} (use =, !=, =~, !~)`);
    const target = m.name === "__name__" ? "s.name" : `coalesce(s.labels ->> ${bind(m.name)}, '')`;
    // PromQL regexes are fully anchored.
    const value = m.op.includes("~") ? `^(?:${m.value})$` : m.value;
    where.push(`${target} ${OPS[m.op]} ${bind(value)}`);
  }
  return where;
}

/**
 * The matching series with their samples in [start, end], oldest first. One row per series with its times
 * and values as arrays: a row per sample repeated the series' id, name and parsed labels for every sample
 * (the 7-day demo's analysis read 200,000 such rows at once, about 100 MB of heap).
 */
export async function querySamples(sql: Sql, q: SampleQuery): Promise<StoredSeries[]> {
  const params: unknown[] = [];
  const where = seriesWhere(q, params);
  params.push(Math.floor(q.start), Math.ceil(q.end));
  const { rows } = await sql.query<{
    name: string;
    labels: Record<string, string>;
    times: (number | string)[];
    vals: (number | string)[];
  }>(
    `SELECT s.name, s.labels, m.times, m.vals
       FROM metric_series s
       CROSS JOIN LATERAL (
         SELECT array_agg(x.time::float8 ORDER BY x.time) AS times, array_agg(x.value ORDER BY x.time) AS vals
           FROM metric_samples x
          WHERE x.series_id = s.series_id AND x.time >= $${params.length - 1} AND x.time <= $${params.length}
       ) m
      WHERE ${[...where, "m.times IS NOT NULL"].join(" AND ")}
      ORDER BY s.series_id`,
    params,
  );
  return rows.map((r) => ({
    name: r.name,
    labels: r.labels,
    samples: r.times.map((t, i) => ({ time: Number(t), value: Number(r.vals[i]) })),
  }));
}

/** The series matching a selector, without samples (for discovery: which metrics exist). */
export async function listSeries(
  sql: Sql,
  q: { name?: string; matchers?: LabelMatcher[]; limit?: number } = {},
): Promise<{ name: string; labels: Record<string, string> }[]> {
  const params: unknown[] = [];
  const where = seriesWhere(q, params);
  params.push(q.limit ?? 10_000);
  const { rows } = await sql.query<{ name: string; labels: Record<string, string> }>(
    `SELECT s.name, s.labels FROM metric_series s ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
      ORDER BY s.name, s.series_id LIMIT $${params.length}`,
    params,
  );
  return rows;
}

/** Distinct metric names, for discovery. */
export async function listMetricNames(sql: Sql): Promise<string[]> {
  const { rows } = await sql.query<{ name: string }>("SELECT DISTINCT name FROM metric_series ORDER BY name");
  return rows.map((r) => r.name);
}
