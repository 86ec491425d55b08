import { type Artifact, Proposal, ProposalSummary } from "../../core/proposal.js";
import type { Sql } from "../ports.js";

/**
 * Proposals are stored whole (validated on the way in and out) with their evidence pointers also as rows,
 * so "which proposals cite this capsule or series" is one indexed query, and with their summary, so a
 * list reads a few hundred bytes a proposal instead of the whole document.
 */

export async function saveProposal(sql: Sql, proposal: Proposal, now = Date.now()): Promise<void> {
  const p = Proposal.parse(proposal);
  // The status is read from its column, which decisions update (setProposalStatus).
  const { status: _status, ...summary } = ProposalSummary.parse(p);
  await sql.transaction(async (tx) => {
    await tx.query(
      `INSERT INTO proposals (id, service, journey, status, data, summary, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7, $7)
       ON CONFLICT (id) DO UPDATE SET service = EXCLUDED.service, journey = EXCLUDED.journey,
         status = EXCLUDED.status, data = EXCLUDED.data, summary = EXCLUDED.summary,
         updated_at = EXCLUDED.updated_at`,
      [p.id, p.service, p.journey, p.status, JSON.stringify(p), JSON.stringify(summary), now],
    );
    await tx.query("DELETE FROM evidence WHERE proposal_id = $1", [p.id]);
    if (p.evidence.length > 0) {
      await tx.query(
        `INSERT INTO evidence (proposal_id, position, kind, ref, range_start, range_end, note)
         SELECT $1, position, kind, ref, range_start, range_end, note FROM jsonb_to_recordset($2::jsonb)
           AS r(position integer, kind text, ref text, range_start bigint, range_end bigint, note text)`,
        [
          p.id,
          JSON.stringify(
            p.evidence.map((e, position) => ({
              position,
              kind: e.kind,
              ref: e.ref,
              range_start: e.range ? Math.floor(e.range.start) : null,
              range_end: e.range ? Math.ceil(e.range.end) : null,
              note: e.note ?? null,
            })),
          ),
        ],
      );
    }
  });
}

export async function getProposal(sql: Sql, id: string): Promise<Proposal | undefined> {
  const { rows } = await sql.query<{ data: unknown }>("SELECT data FROM proposals WHERE id = $1", [id]);
  return rows[0] && Proposal.parse(rows[0].data);
}

/** Newest first. */
export async function listProposals(
  sql: Sql,
  q: { service?: string; status?: Proposal["status"]; limit?: number } = {},
): Promise<Proposal[]> {
  const { rows } = await sql.query<{ data: unknown }>(
    `SELECT data FROM proposals
      WHERE ($1::text IS NULL OR service = $1) AND ($2::text IS NULL OR status = $2)
      ORDER BY created_at DESC, id LIMIT $3`,
    [q.service ?? null, q.status ?? null, q.limit ?? 100],
  );
  return rows.map((r) => Proposal.parse(r.data));
}

/**
 * Newest first, as listProposals, but only their summaries, with the status from its column; rows saved
 * before summaries were kept are summarised from the whole document.
 */
export async function listProposalSummaries(
  sql: Sql,
  q: { service?: string; status?: Proposal["status"]; limit?: number } = {},
): Promise<ProposalSummary[]> {
  const { rows } = await sql.query<{ summary: object; status: Proposal["status"] }>(
    `SELECT COALESCE(summary, data) AS summary, status FROM proposals
      WHERE ($1::text IS NULL OR service = $1) AND ($2::text IS NULL OR status = $2)
      ORDER BY created_at DESC, id LIMIT $3`,
    [q.service ?? null, q.status ?? null, q.limit ?? 100],
  );
  return rows.map((r) => ProposalSummary.parse({ ...r.summary, status: r.status }));
}

/** How many proposals each service has in each status, without reading the proposals themselves. */
export async function countProposals(
  sql: Sql,
): Promise<{ service: string; status: Proposal["status"]; count: number }[]> {
  const { rows } = await sql.query<{ service: string; status: Proposal["status"]; count: number }>(
    "SELECT service, status, count(*)::int AS count FROM proposals GROUP BY service, status",
  );
  return rows;
}

/** Returns false when there is no such proposal. */
export async function setProposalStatus(
  sql: Sql,
  id: string,
  status: Proposal["status"],
  now = Date.now(),
): Promise<boolean> {
  const result = await sql.query(
    `UPDATE proposals SET status = $2, data = jsonb_set(data, '{status}', to_jsonb($2::text)), updated_at = $3
      WHERE id = $1`,
    [id, status, now],
  );
  return result.rowCount > 0;
}

/** Ids of the proposals whose evidence points at `ref` (a capsule id, a series selector, a trace id). */
export async function proposalsCiting(sql: Sql, kind: string, ref: string): Promise<string[]> {
  const { rows } = await sql.query<{ proposal_id: string }>(
    "SELECT DISTINCT proposal_id FROM evidence WHERE kind = $1 AND ref = $2 ORDER BY proposal_id",
    [kind, ref],
  );
  return rows.map((r) => r.proposal_id);
}

/** Stores the generated artifacts of a proposal, replacing earlier ones at the same paths. */
export async function saveArtifacts(
  sql: Sql,
  proposalId: string,
  artifacts: Artifact[],
  now = Date.now(),
): Promise<void> {
  if (artifacts.length === 0) return;
  await sql.query(
    `INSERT INTO artifacts (proposal_id, path, kind, service, slo_id, content, validation, created_at)
     SELECT $1, path, kind, service, slo_id, content, validation, $3 FROM jsonb_to_recordset($2::jsonb)
       AS r(path text, kind text, service text, slo_id text, content text, validation jsonb)
     ON CONFLICT (proposal_id, path) DO UPDATE SET kind = EXCLUDED.kind, service = EXCLUDED.service,
       slo_id = EXCLUDED.slo_id, content = EXCLUDED.content, validation = EXCLUDED.validation,
       created_at = EXCLUDED.created_at`,
    [
      proposalId,
      JSON.stringify(
        artifacts.map((a) => ({
          path: a.path,
          kind: a.kind,
          service: a.service,
          slo_id: a.sloId ?? null,
          content: a.content,
          validation: a.validation ?? null,
        })),
      ),
      now,
    ],
  );
}

export async function listArtifacts(sql: Sql, proposalId: string): Promise<Artifact[]> {
  const { rows } = await sql.query<{
    path: string;
    kind: Artifact["kind"];
    service: string;
    slo_id: string | null;
    content: string;
    validation: Artifact["validation"] | null;
  }>("SELECT * FROM artifacts WHERE proposal_id = $1 ORDER BY path", [proposalId]);
  return rows.map((r) => ({
    kind: r.kind,
    path: r.path,
    content: r.content,
    service: r.service,
    ...(r.slo_id !== null ? { sloId: r.slo_id } : {}),
    ...(r.validation ? { validation: r.validation } : {}),
  }));
}
