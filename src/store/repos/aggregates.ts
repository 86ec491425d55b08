import type { EdgeStats, ExampleTrace, RouteStats, WebVitalStats } from "../../core/aggregates.js";
import type { Sql } from "../ports.js";

/**
 * Span and RUM aggregates per hour window. Like capsules, each row holds the window's absolute state, so
 * writing a window again replaces it.
 */

function lastWins<T>(items: T[], key: (t: T) => string): T[] {
  const m = new Map<string, T>();
  for (const it of items) m.set(key(it), it);
  return [...m.values()];
}

interface Range {
  since?: number;
  until?: number;
}

export async function upsertRouteStats(sql: Sql, stats: RouteStats[]): Promise<number> {
  if (stats.length === 0) return 0;
  const rows = lastWins(stats, (s) => `${s.journeyKey}\u0000${s.windowStart}`).map((s) => ({
    journey_key: s.journeyKey,
    window_start: s.windowStart,
    service: s.service,
    method: s.method ?? null,
    route: s.route ?? null,
    operation: s.operation,
    requests: s.requests,
    errors: s.errors,
    client_errors: s.clientErrors,
    from_browser: s.fromBrowser,
    latency: s.latency,
  }));
  const cols =
    "journey_key, window_start, service, method, route, operation, requests, errors, client_errors, from_browser, latency";
  const result = await sql.query(
    `INSERT INTO route_stats (${cols})
     SELECT ${cols} FROM jsonb_to_recordset($1::jsonb) AS r(journey_key text, window_start bigint, service text,
       method text, route text, operation text, requests bigint, errors bigint, client_errors bigint,
       from_browser bigint, latency jsonb)
     ON CONFLICT (journey_key, window_start) DO UPDATE SET
       service = EXCLUDED.service, method = EXCLUDED.method, route = EXCLUDED.route,
       operation = EXCLUDED.operation, requests = EXCLUDED.requests, errors = EXCLUDED.errors,
       client_errors = EXCLUDED.client_errors, from_browser = EXCLUDED.from_browser, latency = EXCLUDED.latency`,
    [JSON.stringify(rows)],
  );
  return result.rowCount;
}

export async function listRouteStats(
  sql: Sql,
  q: Range & { service?: string; journeyKey?: string } = {},
): Promise<RouteStats[]> {
  const { rows } = await sql.query<{
    journey_key: string;
    window_start: number;
    service: string;
    method: string | null;
    route: string | null;
    operation: string;
    requests: number;
    errors: number;
    client_errors: number;
    from_browser: number;
    latency: RouteStats["latency"];
  }>(
    `SELECT * FROM route_stats
      WHERE ($1::text IS NULL OR service = $1) AND ($2::text IS NULL OR journey_key = $2)
        AND ($3::bigint IS NULL OR window_start >= $3) AND ($4::bigint IS NULL OR window_start < $4)
      ORDER BY journey_key, window_start`,
    [q.service ?? null, q.journeyKey ?? null, q.since ?? null, q.until ?? null],
  );
  return rows.map((r) => ({
    journeyKey: r.journey_key,
    service: r.service,
    ...(r.method !== null ? { method: r.method } : {}),
    ...(r.route !== null ? { route: r.route } : {}),
    operation: r.operation,
    windowStart: r.window_start,
    requests: r.requests,
    errors: r.errors,
    clientErrors: r.client_errors,
    fromBrowser: r.from_browser,
    latency: r.latency,
  }));
}

export async function upsertEdgeStats(sql: Sql, stats: EdgeStats[]): Promise<number> {
  if (stats.length === 0) return 0;
  const rows = lastWins(stats, (s) =>
    [s.journeyKey, s.from, s.to, s.operation, s.windowStart].join("\u0000"),
  ).map((s) => ({
    journey_key: s.journeyKey,
    from_service: s.from,
    to_service: s.to,
    operation: s.operation,
    window_start: s.windowStart,
    calls: s.calls,
    errors: s.errors,
    latency: s.latency,
  }));
  const cols = "journey_key, from_service, to_service, operation, window_start, calls, errors, latency";
  const result = await sql.query(
    `INSERT INTO edge_stats (${cols})
     SELECT ${cols} FROM jsonb_to_recordset($1::jsonb) AS r(journey_key text, from_service text, to_service text,
       operation text, window_start bigint, calls bigint, errors bigint, latency jsonb)
     ON CONFLICT (journey_key, from_service, to_service, operation, window_start) DO UPDATE SET
       calls = EXCLUDED.calls, errors = EXCLUDED.errors, latency = EXCLUDED.latency`,
    [JSON.stringify(rows)],
  );
  return result.rowCount;
}

export async function listEdgeStats(
  sql: Sql,
  q: Range & { journeyKeys?: string[]; service?: string } = {},
): Promise<EdgeStats[]> {
  const { rows } = await sql.query<{
    journey_key: string;
    from_service: string;
    to_service: string;
    operation: string;
    window_start: number;
    calls: number;
    errors: number;
    latency: EdgeStats["latency"];
  }>(
    `SELECT * FROM edge_stats
      WHERE ($1::jsonb IS NULL OR journey_key IN (SELECT jsonb_array_elements_text($1::jsonb)))
        AND ($2::text IS NULL OR from_service = $2 OR to_service = $2)
        AND ($3::bigint IS NULL OR window_start >= $3) AND ($4::bigint IS NULL OR window_start < $4)
      ORDER BY journey_key, from_service, to_service, operation, window_start`,
    [
      q.journeyKeys ? JSON.stringify(q.journeyKeys) : null,
      q.service ?? null,
      q.since ?? null,
      q.until ?? null,
    ],
  );
  return rows.map((r) => ({
    journeyKey: r.journey_key,
    from: r.from_service,
    to: r.to_service,
    operation: r.operation,
    windowStart: r.window_start,
    calls: r.calls,
    errors: r.errors,
    latency: r.latency,
  }));
}

/**
 * Each (journey, window) in the batch gets exactly the given example traces: the reservoir is the window's
 * absolute state, so traces it evicted are deleted.
 */
export async function replaceExampleTraces(sql: Sql, traces: ExampleTrace[]): Promise<number> {
  if (traces.length === 0) return 0;
  const rows = lastWins(traces, (t) => `${t.journeyKey}\u0000${t.windowStart}\u0000${t.traceId}`).map(
    (t) => ({
      journey_key: t.journeyKey,
      window_start: t.windowStart,
      trace_id: t.traceId,
      spans: t.spans,
    }),
  );
  const payload = JSON.stringify(rows);
  return sql.transaction(async (tx) => {
    await tx.query(
      `DELETE FROM example_traces e
        USING (SELECT DISTINCT journey_key, window_start FROM jsonb_to_recordset($1::jsonb)
                 AS r(journey_key text, window_start bigint)) g
        WHERE e.journey_key = g.journey_key AND e.window_start = g.window_start
          AND NOT EXISTS (SELECT 1 FROM jsonb_to_recordset($1::jsonb) AS k(journey_key text, window_start bigint, trace_id text)
                           WHERE k.journey_key = e.journey_key AND k.window_start = e.window_start AND k.trace_id = e.trace_id)`,
      [payload],
    );
    const result = await tx.query(
      `INSERT INTO example_traces (journey_key, window_start, trace_id, spans)
       SELECT journey_key, window_start, trace_id, spans FROM jsonb_to_recordset($1::jsonb)
         AS r(journey_key text, window_start bigint, trace_id text, spans jsonb)
       ON CONFLICT (journey_key, window_start, trace_id) DO UPDATE SET spans = EXCLUDED.spans`,
      [payload],
    );
    return result.rowCount;
  });
}

/** Newest windows first. */
export async function listExampleTraces(
  sql: Sql,
  q: Range & { journeyKey?: string; limit?: number } = {},
): Promise<ExampleTrace[]> {
  const { rows } = await sql.query<{
    journey_key: string;
    window_start: number;
    trace_id: string;
    spans: ExampleTrace["spans"];
  }>(
    `SELECT * FROM example_traces
      WHERE ($1::text IS NULL OR journey_key = $1)
        AND ($2::bigint IS NULL OR window_start >= $2) AND ($3::bigint IS NULL OR window_start < $3)
      ORDER BY window_start DESC, journey_key, trace_id LIMIT $4`,
    [q.journeyKey ?? null, q.since ?? null, q.until ?? null, q.limit ?? 1000],
  );
  return rows.map((r) => ({
    journeyKey: r.journey_key,
    windowStart: r.window_start,
    traceId: r.trace_id,
    spans: r.spans,
  }));
}

export async function upsertWebVitalStats(sql: Sql, stats: WebVitalStats[]): Promise<number> {
  if (stats.length === 0) return 0;
  const rows = lastWins(stats, (s) => [s.service, s.page, s.metric, s.windowStart].join("\u0000")).map(
    (s) => ({
      service: s.service,
      page: s.page,
      metric: s.metric,
      window_start: s.windowStart,
      count: s.count,
      histogram: s.histogram,
    }),
  );
  const result = await sql.query(
    `INSERT INTO web_vital_stats (service, page, metric, window_start, count, histogram)
     SELECT service, page, metric, window_start, count, histogram FROM jsonb_to_recordset($1::jsonb)
       AS r(service text, page text, metric text, window_start bigint, count bigint, histogram jsonb)
     ON CONFLICT (service, page, metric, window_start) DO UPDATE SET
       count = EXCLUDED.count, histogram = EXCLUDED.histogram`,
    [JSON.stringify(rows)],
  );
  return result.rowCount;
}

export async function listWebVitalStats(
  sql: Sql,
  q: Range & { service?: string; page?: string; metric?: WebVitalStats["metric"] } = {},
): Promise<WebVitalStats[]> {
  const { rows } = await sql.query<{
    service: string;
    page: string;
    metric: WebVitalStats["metric"];
    window_start: number;
    count: number;
    histogram: WebVitalStats["histogram"];
  }>(
    `SELECT * FROM web_vital_stats
      WHERE ($1::text IS NULL OR service = $1) AND ($2::text IS NULL OR page = $2)
        AND ($3::text IS NULL OR metric = $3)
        AND ($4::bigint IS NULL OR window_start >= $4) AND ($5::bigint IS NULL OR window_start < $5)
      ORDER BY service, page, metric, window_start`,
    [q.service ?? null, q.page ?? null, q.metric ?? null, q.since ?? null, q.until ?? null],
  );
  return rows.map((r) => ({
    service: r.service,
    page: r.page,
    metric: r.metric,
    windowStart: r.window_start,
    count: r.count,
    histogram: r.histogram,
  }));
}
