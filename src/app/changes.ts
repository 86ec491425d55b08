import { z } from "zod";
import { type Change, GitHostError } from "../store/ports.js";
import { type AuditRecord, listAudit } from "../store/repos/audit.js";
import type { AppContext } from "./context.js";
import { done, type Outcome, refuse } from "./outcome.js";

/**
 * The changes SLO-Scout opened, as its audit log records them: one entry per approval that wrote a change
 * (an approval updating a service's open change is a second entry for the same change). Read from the
 * database rather than the git host, so listing costs no call to GitHub or GitLab.
 */
export interface ChangeRecord {
  /** The host's change id (a PR/MR number, a sequence number in the local repository). */
  id: string;
  service: string;
  branch: string;
  url: string;
  /** The commit this approval wrote. */
  commit: string;
  files: string[];
  proposals: string[];
  /** Epoch ms of the approval. */
  at: number;
  /** `<source>:<login>` of who approved. */
  by: string;
}

/** What approve writes in the audit entry's details (src/app/approve.ts). */
const ApprovalDetails = z.object({
  proposals: z.array(z.string()),
  change: z.object({ id: z.string(), branch: z.string(), url: z.string(), commit: z.string() }),
  files: z.array(z.string()),
});

const SERVICE_SUBJECT = "service:";

function fromAudit(entry: AuditRecord): ChangeRecord | undefined {
  const details = ApprovalDetails.safeParse(entry.details);
  if (!details.success || !entry.subject?.startsWith(SERVICE_SUBJECT)) return undefined;
  const { change, files, proposals } = details.data;
  return {
    id: change.id,
    service: entry.subject.slice(SERVICE_SUBJECT.length),
    branch: change.branch,
    url: change.url,
    commit: change.commit,
    files,
    proposals,
    at: entry.at,
    by: entry.actor,
  };
}

/** Newest first; one service's when a service is given. */
export async function changes(
  app: AppContext,
  q: { service?: string; limit?: number } = {},
): Promise<ChangeRecord[]> {
  const entries = await listAudit(app.sql, {
    action: "approve",
    ...(q.service !== undefined ? { subject: `${SERVICE_SUBJECT}${q.service}` } : {}),
    limit: q.limit ?? 200,
  });
  return entries.map(fromAudit).filter((c): c is ChangeRecord => c !== undefined);
}

export interface ChangeDetails {
  /** The change as the git host has it now (title, body, head, every file it touches). */
  change: Change;
  /** The approvals that wrote it, newest first. */
  approvals: ChangeRecord[];
}

/** One change from the git host, with the approvals that wrote it. */
export async function change(app: AppContext, id: string): Promise<Outcome<ChangeDetails>> {
  const host = await app.gitHost();
  let found: Change | undefined;
  try {
    found = await host.getChange(id);
  } catch (err) {
    // A host that cannot read the id at all (not one of its ids) has no such change either.
    if (!(err instanceof GitHostError)) throw err;
  }
  if (!found)
    return refuse("unknown-id", `no change ${id}. The changes SLO-Scout opened are listed under "changes".`);
  const approvals = (await changes(app, { limit: 1000 })).filter((c) => c.id === id);
  return done({ change: found, approvals });
}
