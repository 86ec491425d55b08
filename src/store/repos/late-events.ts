import type { Sql } from "../ports.js";

/** Per service: late events the stream stage dropped (beyond the correction horizon) or added to a closed window. */
export interface LateEvents {
  service: string;
  dropped: number;
  corrected: number;
  /** When the last drop was stored (epoch ms). */
  lastDroppedAt?: number;
}

/** Adds a change set's late counts (in its transaction, so they count once). */
export async function addLateEvents(
  sql: Sql,
  counts: ReadonlyMap<string, { dropped: number; corrected: number }>,
  now = Date.now(),
): Promise<void> {
  const rows = [...counts].filter(([, c]) => c.dropped > 0 || c.corrected > 0);
  if (rows.length === 0) return;
  await sql.query(
    `INSERT INTO late_events (service, dropped, corrected, last_dropped_at, updated_at)
     SELECT s, d, c, CASE WHEN d > 0 THEN $4::bigint END, $4
       FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS x(s, d, c)
     ON CONFLICT (service) DO UPDATE SET
       dropped = late_events.dropped + EXCLUDED.dropped,
       corrected = late_events.corrected + EXCLUDED.corrected,
       last_dropped_at = COALESCE(EXCLUDED.last_dropped_at, late_events.last_dropped_at),
       updated_at = EXCLUDED.updated_at`,
    [rows.map(([s]) => s), rows.map(([, c]) => c.dropped), rows.map(([, c]) => c.corrected), now],
  );
}

export async function listLateEvents(sql: Sql, services: string[]): Promise<LateEvents[]> {
  const { rows } = await sql.query<{
    service: string;
    dropped: number;
    corrected: number;
    last_dropped_at: number | null;
  }>("SELECT * FROM late_events WHERE service = ANY($1::text[]) ORDER BY service", [services]);
  return rows.map((r) => ({
    service: r.service,
    dropped: Number(r.dropped),
    corrected: Number(r.corrected),
    ...(r.last_dropped_at === null ? {} : { lastDroppedAt: Number(r.last_dropped_at) }),
  }));
}
