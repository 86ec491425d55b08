import { createHash } from "node:crypto";
import { errorBudgetOf, type Proposal, type ProposalSummary } from "../core/proposal.js";
import { appendAudit } from "../store/repos/audit.js";
import {
  getProposal,
  listProposalSummaries,
  listProposals,
  saveProposal,
  setProposalStatus,
} from "../store/repos/proposals.js";
import type { AppContext } from "./context.js";
import { done, type Outcome, refuse } from "./outcome.js";

/** Who asks, from where: every decision is audited with it. */
export interface Actor {
  /** The login on the host (GitHub/GitLab user, Slack user id, local user): what the policy names. */
  login: string;
  /** Teams the host says the person belongs to, for the policy's approver teams. */
  teams?: string[];
  /** Other names the host vouches for, e.g. the e-mail Slack holds for a user; the policy may list those. */
  aliases?: string[];
  source: "github" | "gitlab" | "slack" | "cli" | "api" | "console";
  /** The conversation: a PR/MR URL or a Slack channel/thread. */
  chat?: string;
}

/** Newest first; all services when none is given. */
export async function proposals(
  app: AppContext,
  q: { service?: string; status?: Proposal["status"]; limit?: number } = {},
): Promise<Proposal[]> {
  return listProposals(app.sql, { ...q, limit: q.limit ?? 200 });
}

/** The same list as `proposals`, summaries only: for lists that show many and link to the whole one. */
export async function proposalSummaries(
  app: AppContext,
  q: { service?: string; status?: Proposal["status"]; limit?: number } = {},
): Promise<ProposalSummary[]> {
  return listProposalSummaries(app.sql, { ...q, limit: q.limit ?? 200 });
}

export async function proposal(app: AppContext, id: string): Promise<Outcome<Proposal>> {
  const p = await getProposal(app.sql, id);
  return p ? done(p) : refuse("unknown-id", unknownProposal(id));
}

export const unknownProposal = (id: string) =>
  `no proposal ${id}. List them with "proposals", or run "analyze <service>" first.`;

/** Refuses a proposal that is not open any more, naming the decision already taken. */
export function stillOpen(p: Proposal): Outcome<Proposal> {
  return p.status === "proposed"
    ? done(p)
    : refuse("already-decided", `proposal ${p.id} is already ${p.status}; analyze again for a new one.`);
}

export async function reject(
  app: AppContext,
  id: string,
  req: { by: Actor; reason?: string },
): Promise<Outcome<Proposal>> {
  const found = await proposal(app, id);
  if (!found.ok) return found;
  const open = stillOpen(found.value);
  if (!open.ok) return open;
  await app.sql.transaction(async (tx) => {
    await setProposalStatus(tx, id, "rejected", app.now());
    await appendAudit(tx, {
      at: app.now(),
      actor: `${req.by.source}:${req.by.login}`,
      action: "reject",
      subject: id,
      source: req.by.source,
      ...(req.by.chat ? { chat: req.by.chat } : {}),
      details: { service: found.value.service, ...(req.reason ? { reason: req.reason } : {}) },
    });
  });
  return done({ ...found.value, status: "rejected" });
}

/**
 * What an approval is given for: the SLI's kind, source, queries and threshold, the recommended target and
 * the window, hashed. A re-analysis that moves the target or the latency threshold gives another version,
 * so an approval of the earlier one does not count toward it; the evidence, confidence and wording that
 * every analysis refreshes are not part of it.
 */
export function proposalVersion(p: Proposal): string {
  const { kind, source, promql, threshold } = p.sli;
  const committed = {
    sli: { kind, source, promql, threshold: threshold ?? null },
    target: p.target.recommended,
    window: p.window,
  };
  return createHash("sha256").update(JSON.stringify(committed)).digest("hex").slice(0, 16);
}

/** The proposal with another recommended target (percent) and the error budget that goes with it. */
export function withTarget(p: Proposal, target: number): Proposal {
  return { ...p, target: { ...p.target, recommended: target, errorBudget: errorBudgetOf(target) } };
}

/**
 * Edits an open proposal before the decision: another recommended target (what an approval without a
 * target of its own then commits) and a reviewer's note. Audited like the decisions.
 */
export async function amend(
  app: AppContext,
  id: string,
  req: { by: Actor; target?: number; note?: string },
): Promise<Outcome<Proposal>> {
  if (req.target !== undefined && !(req.target > 0 && req.target < 100))
    return refuse("bad-request", `the target must be a percentage between 0 and 100, got ${req.target}`);
  const found = await proposal(app, id);
  if (!found.ok) return found;
  const open = stillOpen(found.value);
  if (!open.ok) return open;
  let amended = req.target === undefined ? found.value : withTarget(found.value, req.target);
  if (req.note !== undefined) amended = { ...amended, note: req.note };
  await app.sql.transaction(async (tx) => {
    await saveProposal(tx, amended, app.now());
    await appendAudit(tx, {
      at: app.now(),
      actor: `${req.by.source}:${req.by.login}`,
      action: "amend",
      subject: id,
      source: req.by.source,
      ...(req.by.chat ? { chat: req.by.chat } : {}),
      details: {
        service: amended.service,
        ...(req.target !== undefined ? { target: req.target, before: found.value.target.recommended } : {}),
        ...(req.note !== undefined ? { note: req.note } : {}),
      },
    });
  });
  return done(amended);
}
