import type { Capsule } from "../../core/capsule.js";
import type { Sql } from "../ports.js";

/**
 * Capsules: one row per (service, fingerprint, window). The stream stage writes each window's ABSOLUTE
 * state (total count, severity counts, reservoir samples), so `upsertCapsules` REPLACES a row's counts
 * rather than adding to them: writing the same window twice, or re-processing a batch after a crash,
 * leaves the same row.
 */

/** A capsule's id: stable across writers and restarts, and resolvable back to its row. */
export function capsuleId(c: { fingerprint: string; windowStart: number }): string {
  return `${c.fingerprint}:${c.windowStart}`;
}

export function parseCapsuleId(id: string): { fingerprint: string; windowStart: number } | undefined {
  const m = /^([0-9a-f]{64}):(\d+)$/.exec(id);
  return m ? { fingerprint: m[1]!, windowStart: Number(m[2]) } : undefined;
}

interface CapsuleRow {
  service: string;
  fingerprint: string;
  window_start: number;
  template: string;
  count: number;
  severity_counts: Capsule["severityCounts"];
  first_seen: number;
  last_seen: number;
  samples: string[];
  blob_ref: string | null;
}

function fromRow(r: CapsuleRow): Capsule {
  return {
    id: capsuleId({ fingerprint: r.fingerprint, windowStart: r.window_start }),
    service: r.service,
    fingerprint: r.fingerprint,
    windowStart: r.window_start,
    template: r.template,
    count: r.count,
    severityCounts: r.severity_counts,
    firstSeen: r.first_seen,
    lastSeen: r.last_seen,
    samples: r.samples,
    ...(r.blob_ref ? { blobRef: r.blob_ref } : {}),
  };
}

const COLUMNS =
  "service, fingerprint, window_start, template, count, severity_counts, first_seen, last_seen, samples, blob_ref";

/** Writes the windows' absolute state; returns the number of rows written. Later items win within a batch. */
export async function upsertCapsules(sql: Sql, capsules: Capsule[], now = Date.now()): Promise<number> {
  if (capsules.length === 0) return 0;
  const byKey = new Map<string, Capsule>();
  for (const c of capsules) byKey.set(`${c.service}\u0000${capsuleId(c)}`, c);
  const rows = [...byKey.values()].map((c) => ({
    service: c.service,
    fingerprint: c.fingerprint,
    window_start: c.windowStart,
    template: c.template,
    count: c.count,
    severity_counts: c.severityCounts,
    // Event times may carry sub-millisecond fractions; the table keeps whole milliseconds.
    first_seen: Math.floor(c.firstSeen),
    last_seen: Math.ceil(c.lastSeen),
    samples: c.samples,
    blob_ref: c.blobRef ?? null,
  }));
  const result = await sql.query(
    `INSERT INTO capsules (${COLUMNS}, updated_at)
     SELECT ${COLUMNS}, $2::bigint FROM jsonb_to_recordset($1::jsonb) AS r(
       service text, fingerprint text, window_start bigint, template text, count bigint,
       severity_counts jsonb, first_seen bigint, last_seen bigint, samples jsonb, blob_ref text)
     ON CONFLICT (service, fingerprint, window_start) DO UPDATE SET
       template = EXCLUDED.template,
       count = EXCLUDED.count,
       severity_counts = EXCLUDED.severity_counts,
       first_seen = EXCLUDED.first_seen,
       last_seen = EXCLUDED.last_seen,
       samples = EXCLUDED.samples,
       blob_ref = COALESCE(EXCLUDED.blob_ref, capsules.blob_ref),
       updated_at = EXCLUDED.updated_at`,
    [JSON.stringify(rows), now],
  );
  return result.rowCount;
}

/** Points every capsule of a service-window at the blob holding its samples. */
export async function setCapsuleBlobRef(
  sql: Sql,
  service: string,
  windowStart: number,
  blobRef: string,
): Promise<number> {
  const result = await sql.query(
    "UPDATE capsules SET blob_ref = $3 WHERE service = $1 AND window_start = $2",
    [service, windowStart, blobRef],
  );
  return result.rowCount;
}

export async function getCapsule(sql: Sql, id: string): Promise<Capsule | undefined> {
  const key = parseCapsuleId(id);
  if (!key) return undefined;
  const { rows } = await sql.query<CapsuleRow>(
    `SELECT ${COLUMNS} FROM capsules WHERE fingerprint = $1 AND window_start = $2`,
    [key.fingerprint, key.windowStart],
  );
  return rows[0] && fromRow(rows[0]);
}

export interface CapsuleQuery {
  service?: string;
  fingerprint?: string;
  /** Windows starting at or after this time (epoch ms). */
  since?: number;
  /** Windows starting before this time (epoch ms). */
  until?: number;
  limit?: number;
}

/** Newest windows first, then the most frequent. */
export async function listCapsules(sql: Sql, q: CapsuleQuery = {}): Promise<Capsule[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (clause: string, value: unknown) => {
    params.push(value);
    where.push(clause.replace("?", `$${params.length}`));
  };
  if (q.service !== undefined) add("service = ?", q.service);
  if (q.fingerprint !== undefined) add("fingerprint = ?", q.fingerprint);
  if (q.since !== undefined) add("window_start >= ?", Math.floor(q.since));
  if (q.until !== undefined) add("window_start < ?", Math.ceil(q.until));
  params.push(q.limit ?? 1000);
  const { rows } = await sql.query<CapsuleRow>(
    `SELECT ${COLUMNS} FROM capsules ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
     ORDER BY window_start DESC, count DESC, fingerprint LIMIT $${params.length}`,
    params,
  );
  return rows.map(fromRow);
}

export interface FingerprintSummary {
  service: string;
  fingerprint: string;
  template: string;
  count: number;
  windows: number;
  firstSeen: number;
  lastSeen: number;
}

/** Totals per fingerprint over a time range, most frequent first. */
export async function summarizeCapsules(
  sql: Sql,
  q: { service?: string; since?: number; until?: number; limit?: number } = {},
): Promise<FingerprintSummary[]> {
  const { rows } = await sql.query<{
    service: string;
    fingerprint: string;
    template: string;
    count: number;
    windows: number;
    first_seen: number;
    last_seen: number;
  }>(
    `SELECT service, fingerprint, (array_agg(template ORDER BY window_start DESC))[1] AS template,
            sum(count)::bigint AS count, count(*)::bigint AS windows,
            min(first_seen) AS first_seen, max(last_seen) AS last_seen
       FROM capsules
      WHERE ($1::text IS NULL OR service = $1)
        AND ($2::bigint IS NULL OR window_start >= $2)
        AND ($3::bigint IS NULL OR window_start < $3)
      GROUP BY service, fingerprint
      ORDER BY sum(count) DESC, fingerprint
      LIMIT $4`,
    [q.service ?? null, q.since ?? null, q.until ?? null, q.limit ?? 1000],
  );
  return rows.map((r) => ({
    service: r.service,
    fingerprint: r.fingerprint,
    template: r.template,
    count: r.count,
    windows: r.windows,
    firstSeen: r.first_seen,
    lastSeen: r.last_seen,
  }));
}

/** Severity counts per service, fingerprint and hourly window (no samples): the derived log counters' input. */
export async function listLogWindowCounts(
  sql: Sql,
  q: { service?: string; since?: number; until?: number } = {},
): Promise<
  { service: string; fingerprint: string; windowStart: number; severityCounts: Capsule["severityCounts"] }[]
> {
  const { rows } = await sql.query<{
    service: string;
    fingerprint: string;
    window_start: number | string;
    severity_counts: Capsule["severityCounts"];
  }>(
    `SELECT service, fingerprint, window_start, severity_counts FROM capsules
      WHERE ($1::text IS NULL OR service = $1)
        AND ($2::bigint IS NULL OR window_start >= $2)
        AND ($3::bigint IS NULL OR window_start < $3)`,
    [q.service ?? null, q.since ?? null, q.until ?? null],
  );
  return rows.map((r) => ({
    service: r.service,
    fingerprint: r.fingerprint,
    windowStart: Number(r.window_start),
    severityCounts: r.severity_counts,
  }));
}
