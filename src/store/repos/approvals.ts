import type { Sql } from "../ports.js";

/**
 * Approvals recorded while a proposal waits for a second approver (`proposal_approvals`). An approver is
 * `<source>:<login>`, so approving twice keeps one row (the later target and version win).
 */

export interface RecordedApproval {
  proposalId: string;
  /** `<source>:<login>`. */
  approver: string;
  login: string;
  /** Percent; absent for the proposal's recommended target. */
  target?: number;
  /** The version of the proposal approved (proposalVersion); absent for rows recorded before versions. */
  version?: string;
  at: number;
}

/** Records (or renews) each approval; atomic per row, so two approvers racing both land. */
export async function recordApprovals(sql: Sql, approvals: RecordedApproval[]): Promise<void> {
  for (const a of approvals) {
    await sql.query(
      `INSERT INTO proposal_approvals (proposal_id, approver, login, target, proposal_version, approved_at)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (proposal_id, approver)
       DO UPDATE SET login = EXCLUDED.login, target = EXCLUDED.target,
                     proposal_version = EXCLUDED.proposal_version, approved_at = EXCLUDED.approved_at`,
      [a.proposalId, a.approver, a.login, a.target ?? null, a.version ?? null, Math.floor(a.at)],
    );
  }
}

/** The approvals of these proposals, oldest first. */
export async function approvalsOf(sql: Sql, proposalIds: string[]): Promise<RecordedApproval[]> {
  if (proposalIds.length === 0) return [];
  const { rows } = await sql.query<{
    proposal_id: string;
    approver: string;
    login: string;
    target: number | null;
    proposal_version: string | null;
    approved_at: string | number;
  }>(
    `SELECT proposal_id, approver, login, target, proposal_version, approved_at FROM proposal_approvals
      WHERE proposal_id = ANY($1::text[]) ORDER BY approved_at, approver`,
    [proposalIds],
  );
  return rows.map((r) => ({
    proposalId: r.proposal_id,
    approver: r.approver,
    login: r.login,
    ...(r.target !== null ? { target: Number(r.target) } : {}),
    ...(r.proposal_version !== null ? { version: r.proposal_version } : {}),
    at: Number(r.approved_at),
  }));
}

/** Forgets the approvals of these proposals (they were committed). */
export async function clearApprovals(sql: Sql, proposalIds: string[]): Promise<void> {
  if (proposalIds.length === 0) return;
  await sql.query("DELETE FROM proposal_approvals WHERE proposal_id = ANY($1::text[])", [proposalIds]);
}
