import type { Sql } from "../ports.js";

export type AnalysisJobStatus = "queued" | "running" | "done" | "refused" | "failed";

export interface AnalysisJobRecord {
  id: string;
  service: string;
  request: Record<string, unknown>;
  actor: string;
  status: AnalysisJobStatus;
  /** The analysis when done (the stable JSON shape of `analyze --json`). */
  result?: unknown;
  /** Why it was refused or failed: `{ code, reason, details? }`. */
  refusal?: { code: string; reason: string; details?: string[] };
  createdAt: number;
  updatedAt: number;
}

interface Row {
  id: string;
  service: string;
  request: Record<string, unknown>;
  actor: string;
  status: AnalysisJobStatus;
  result: unknown;
  refusal: AnalysisJobRecord["refusal"] | null;
  created_at: number | string;
  updated_at: number | string;
}

const fromRow = (r: Row): AnalysisJobRecord => ({
  id: r.id,
  service: r.service,
  request: r.request,
  actor: r.actor,
  status: r.status,
  ...(r.result !== null && r.result !== undefined ? { result: r.result } : {}),
  ...(r.refusal ? { refusal: r.refusal } : {}),
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
});

export async function insertAnalysisJob(
  sql: Sql,
  job: Pick<AnalysisJobRecord, "id" | "service" | "request" | "actor">,
  now: number,
): Promise<void> {
  await sql.query(
    `INSERT INTO analysis_jobs (id, service, request, actor, status, created_at, updated_at)
     VALUES ($1, $2, $3::jsonb, $4, 'queued', $5, $5)`,
    [job.id, job.service, JSON.stringify(job.request), job.actor, Math.floor(now)],
  );
}

export async function updateAnalysisJob(
  sql: Sql,
  id: string,
  change: Pick<AnalysisJobRecord, "status"> & Partial<Pick<AnalysisJobRecord, "result" | "refusal">>,
  now: number,
): Promise<void> {
  await sql.query(
    `UPDATE analysis_jobs SET status = $2, result = $3::jsonb, refusal = $4::jsonb, updated_at = $5
      WHERE id = $1`,
    [
      id,
      change.status,
      change.result === undefined ? null : JSON.stringify(change.result),
      change.refusal === undefined ? null : JSON.stringify(change.refusal),
      Math.floor(now),
    ],
  );
}

export async function getAnalysisJob(sql: Sql, id: string): Promise<AnalysisJobRecord | undefined> {
  const { rows } = await sql.query<Row>("SELECT * FROM analysis_jobs WHERE id = $1", [id]);
  return rows[0] && fromRow(rows[0]);
}
