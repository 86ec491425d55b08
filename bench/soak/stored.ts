import type { Sql } from "../../src/store/ports.js";

/**
 * What the store holds after a soak run has drained, in the terms the generators count what was
 * acknowledged: log lines (and span and RUM errors, and RUM logs) as the capsule counts of each service,
 * traces as `applied_traces` rows (each also one request in `route_stats`), metric samples as rows of
 * `metric_samples`, web-vital values as the counts of `web_vital_stats`.
 */
export interface Stored {
  /** Keyed as the generators' `expected`: `logLines:<service>`, `traces`, `samples`, `webVitals`. */
  counts: Record<string, number>;
  routeRequests: number;
  edgeCalls: number;
  late: { dropped: number; corrected: number };
}

export async function storedCounts(sql: Sql): Promise<Stored> {
  const one = async (q: string) => Number((await sql.query<{ n: string | null }>(q)).rows[0]?.n ?? 0);
  const counts: Record<string, number> = {};
  for (const r of (
    await sql.query<{ service: string; n: string }>(
      "SELECT service, sum(count) AS n FROM capsules GROUP BY service",
    )
  ).rows) {
    counts[`logLines:${r.service}`] = Number(r.n);
  }
  counts.traces = await one("SELECT count(*) AS n FROM applied_traces");
  counts.samples = await one("SELECT count(*) AS n FROM metric_samples");
  counts.webVitals = await one("SELECT coalesce(sum(count), 0) AS n FROM web_vital_stats");
  const late = (
    await sql.query<{ dropped: string | null; corrected: string | null }>(
      "SELECT sum(dropped) AS dropped, sum(corrected) AS corrected FROM late_events",
    )
  ).rows[0];
  return {
    counts,
    routeRequests: await one("SELECT coalesce(sum(requests), 0) AS n FROM route_stats"),
    edgeCalls: await one("SELECT coalesce(sum(calls), 0) AS n FROM edge_stats"),
    late: { dropped: Number(late?.dropped ?? 0), corrected: Number(late?.corrected ?? 0) },
  };
}
