import type { Sql } from "../ports.js";

/** Who did what, when, and from which chat: every command, approval and commit the bot acts on. */
export interface AuditEntry {
  /** Epoch ms; defaults to now. */
  at?: number;
  /** The person or system, e.g. `github:octocat`, `slack:U123`, `cli:alice`. */
  actor: string;
  /** What was done, e.g. `analyze`, `approve`, `commit`, `reject`. */
  action: string;
  /** What it was done to, e.g. a proposal id or `service:checkout`. */
  subject?: string;
  source: "github" | "gitlab" | "slack" | "cli" | "api" | (string & {});
  /** The conversation: a PR/MR URL or a Slack channel/thread. */
  chat?: string;
  details?: Record<string, unknown>;
}

export interface AuditRecord extends Required<Omit<AuditEntry, "subject" | "chat">> {
  id: number;
  subject?: string;
  chat?: string;
}

export async function appendAudit(sql: Sql, entry: AuditEntry): Promise<number> {
  if (!entry.actor || !entry.action || !entry.source) {
    throw new Error("an audit entry needs an actor, an action and a source");
  }
  const { rows } = await sql.query<{ id: number }>(
    `INSERT INTO audit_log (at, actor, action, subject, source, chat, details)
     VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb) RETURNING id`,
    [
      Math.floor(entry.at ?? Date.now()),
      entry.actor,
      entry.action,
      entry.subject ?? null,
      entry.source,
      entry.chat ?? null,
      JSON.stringify(entry.details ?? {}),
    ],
  );
  return rows[0]!.id;
}

/** Newest first. */
export async function listAudit(
  sql: Sql,
  q: { subject?: string; actor?: string; action?: string; since?: number; limit?: number } = {},
): Promise<AuditRecord[]> {
  const { rows } = await sql.query<{
    id: number;
    at: number;
    actor: string;
    action: string;
    subject: string | null;
    source: string;
    chat: string | null;
    details: Record<string, unknown>;
  }>(
    `SELECT * FROM audit_log
      WHERE ($1::text IS NULL OR subject = $1) AND ($2::text IS NULL OR actor = $2)
        AND ($3::bigint IS NULL OR at >= $3) AND ($5::text IS NULL OR action = $5)
      ORDER BY at DESC, id DESC LIMIT $4`,
    [q.subject ?? null, q.actor ?? null, q.since ?? null, q.limit ?? 100, q.action ?? null],
  );
  return rows.map((r) => ({
    id: r.id,
    at: r.at,
    actor: r.actor,
    action: r.action,
    ...(r.subject !== null ? { subject: r.subject } : {}),
    source: r.source,
    ...(r.chat !== null ? { chat: r.chat } : {}),
    details: r.details,
  }));
}
