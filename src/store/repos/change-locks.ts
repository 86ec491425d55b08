import type { Sql } from "../ports.js";

/**
 * One approval at a time per (repository, service). The lock belongs to a conversation (`owner`, e.g.
 * `github:acme/shop#12`): while an approval job runs (`job`) nobody else gets it, not even the same
 * conversation; once the job opened its change the lock stays with that conversation, naming the change's
 * branch, until the change closes (`releaseBranchLocks`) or it expires. The same conversation may approve
 * again (its change is updated); another one is refused with the holder.
 */

export interface LockScope {
  /** The repository the change goes to, e.g. `acme/shop` or a GitLab project path. */
  repository: string;
  /** The conversation approving, e.g. `github:acme/shop#12` or `slack:C123/1700000000.1234`. */
  owner: string;
}

export interface ChangeLock extends LockScope {
  service: string;
  job?: string;
  branch?: string;
  acquiredAt: number;
  expiresAt: number;
}

export type Acquired = { ok: true } | { ok: false; holder: ChangeLock };

interface Row {
  repository: string;
  service: string;
  owner: string;
  job: string | null;
  branch: string | null;
  acquired_at: string | number;
  expires_at: string | number;
}

const toLock = (r: Row): ChangeLock => ({
  repository: r.repository,
  service: r.service,
  owner: r.owner,
  ...(r.job !== null ? { job: r.job } : {}),
  ...(r.branch !== null ? { branch: r.branch } : {}),
  acquiredAt: Number(r.acquired_at),
  expiresAt: Number(r.expires_at),
});

/**
 * Takes the lock of every service for `job`, all or none: the lock is free, expired, or held by the same
 * owner with no other job running. A refusal names the holder.
 */
export async function acquireChangeLocks(
  sql: Sql,
  req: LockScope & { services: string[]; job: string; now: number; ttlMs: number },
): Promise<Acquired> {
  return sql
    .transaction(async (tx) => {
      for (const service of [...new Set(req.services)].sort()) {
        const { rows } = await tx.query<Row>(
          `INSERT INTO change_locks (repository, service, owner, job, branch, acquired_at, expires_at)
         VALUES ($1, $2, $3, $4, NULL, $5, $6)
         ON CONFLICT (repository, service) DO UPDATE
           SET owner = EXCLUDED.owner, job = EXCLUDED.job,
               branch = CASE WHEN change_locks.owner = EXCLUDED.owner THEN change_locks.branch END,
               acquired_at = EXCLUDED.acquired_at, expires_at = EXCLUDED.expires_at
           WHERE change_locks.expires_at <= EXCLUDED.acquired_at
              OR (change_locks.owner = EXCLUDED.owner
                  AND (change_locks.job IS NULL OR change_locks.job = EXCLUDED.job))
         RETURNING repository`,
          [req.repository, service, req.owner, req.job, Math.floor(req.now), Math.floor(req.now + req.ttlMs)],
        );
        if (rows.length === 0) {
          const held = await tx.query<Row>(
            "SELECT * FROM change_locks WHERE repository = $1 AND service = $2",
            [req.repository, service],
          );
          // Leave nothing half-taken: the transaction's earlier rows are undone by the throw.
          throw new LockHeld(toLock(held.rows[0]!));
        }
      }
      return { ok: true } as const;
    })
    .catch((err: unknown) => {
      if (err instanceof LockHeld) return { ok: false as const, holder: err.holder };
      throw err;
    });
}

class LockHeld extends Error {
  constructor(readonly holder: ChangeLock) {
    super(`change lock held by ${holder.owner}`);
  }
}

/**
 * Ends `job`'s hold on a service: with the branch of the change it opened, the lock stays with the owner
 * until that change closes (or `ttlMs` passes); without one (the approval was refused or failed) a lock
 * that names no earlier change is dropped.
 */
export async function finishChangeLock(
  sql: Sql,
  req: { repository: string; service: string; job: string; branch?: string; now: number; ttlMs: number },
): Promise<void> {
  if (req.branch !== undefined) {
    await sql.query(
      `UPDATE change_locks SET job = NULL, branch = $4, expires_at = $5
        WHERE repository = $1 AND service = $2 AND job = $3`,
      [req.repository, req.service, req.job, req.branch, Math.floor(req.now + req.ttlMs)],
    );
    return;
  }
  await sql.query(
    "DELETE FROM change_locks WHERE repository = $1 AND service = $2 AND job = $3 AND branch IS NULL",
    [req.repository, req.service, req.job],
  );
  await sql.query("UPDATE change_locks SET job = NULL WHERE repository = $1 AND service = $2 AND job = $3", [
    req.repository,
    req.service,
    req.job,
  ]);
}

/** Releases the locks held by the change on `branch` (it was merged or closed); returns their services. */
export async function releaseBranchLocks(
  sql: Sql,
  req: { repository: string; branch: string },
): Promise<string[]> {
  const { rows } = await sql.query<{ service: string }>(
    "DELETE FROM change_locks WHERE repository = $1 AND branch = $2 RETURNING service",
    [req.repository, req.branch],
  );
  return rows.map((r) => r.service).sort();
}

/** The lock on a service, expired or not; undefined when there is none. */
export async function getChangeLock(
  sql: Sql,
  req: { repository: string; service: string },
): Promise<ChangeLock | undefined> {
  const { rows } = await sql.query<Row>("SELECT * FROM change_locks WHERE repository = $1 AND service = $2", [
    req.repository,
    req.service,
  ]);
  return rows[0] ? toLock(rows[0]) : undefined;
}
