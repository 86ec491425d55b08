import { ConfigFileError } from "../core/config-file.js";
import type { Proposal } from "../core/proposal.js";
import { runbookContexts } from "../generators/runbook-context.js";
import { SpecMergeError, specFromProposals, specPath } from "../generators/spec/from-proposals.js";
import { SpecError } from "../generators/spec/index.js";
import type { BlastRadiusReport } from "../governance/blast-radius.js";
import { type Approver, checkApproval } from "../governance/guard.js";
import { DEFAULT_POLICY } from "../governance/policy.js";
import type { Change, ChangeFile, GitHost } from "../store/ports.js";
import { approvalsOf, clearApprovals, recordApprovals } from "../store/repos/approvals.js";
import { appendAudit } from "../store/repos/audit.js";
import { journeysThrough } from "../store/repos/journeys.js";
import { getProposal, listProposals, saveProposal } from "../store/repos/proposals.js";
import { assess, repoPolicy } from "./assess.js";
import { buildChangeSet } from "./change-set.js";
import type { AppContext } from "./context.js";
import { LAYOUT } from "./layout.js";
import { done, type Outcome, refuse, refuseConfigFile } from "./outcome.js";
import { type Actor, proposalVersion, stillOpen, unknownProposal, withTarget } from "./proposals.js";
import { renderMarkdown } from "./render-markdown.js";
import { changeRequestView, cliCommands } from "./view-model.js";

export interface ApproveRequest {
  by: Actor;
  /** Overrides the recommended target (percent) of every approved proposal. */
  target?: number;
  /** The branch the change starts from; the host's default branch when absent. */
  baseRef?: string;
}

export interface ApprovedChange {
  service: string;
  change: Change;
  proposals: Proposal[];
  files: ChangeFile[];
  blastRadius: BlastRadiusReport;
  notes: string[];
}

async function resolve(app: AppContext, ids: string[] | "all"): Promise<Outcome<Proposal[]>> {
  if (ids === "all") {
    const open = await listProposals(app.sql, { status: "proposed", limit: 200 });
    if (open.length === 0) return refuse("unknown-id", 'no open proposals. Run "analyze <service>" first.');
    return done(open);
  }
  if (ids.length === 0) return refuse("bad-request", "name at least one proposal id, or all");
  const found: Proposal[] = [];
  for (const id of new Set(ids)) {
    const p = await getProposal(app.sql, id);
    if (!p) return refuse("unknown-id", unknownProposal(id));
    const open = stillOpen(p);
    if (!open.ok) return open;
    found.push(p);
  }
  return done(found);
}

/**
 * Approves proposals: their service's SLO spec (merged into the one the repository keeps) → rules,
 * alerts, rule tests, dashboard and runbooks → validation → the repository's policy → blast radius → one
 * change per service on the git host, audited. Any refusal (unknown id, decided already, not an allowed
 * approver, invalid artifacts, policy) comes back before anything is written.
 */
export async function approve(
  app: AppContext,
  ids: string[] | "all",
  req: ApproveRequest,
): Promise<Outcome<ApprovedChange[]>> {
  if (req.target !== undefined && !(req.target > 0 && req.target < 100))
    return refuse("bad-request", `the target must be a percentage between 0 and 100, got ${req.target}`);
  const resolved = await resolve(app, ids);
  if (!resolved.ok) return resolved;
  const ref = req.baseRef;
  let host: GitHost;
  let policy: Awaited<ReturnType<typeof repoPolicy>>;
  try {
    host = await app.gitHost();
    policy = await repoPolicy(host, ref);
  } catch (err) {
    if (err instanceof ConfigFileError) return refuseConfigFile(err);
    throw err;
  }
  const asker: Approver = {
    id: req.by.login,
    ...(req.by.teams ? { teams: req.by.teams } : {}),
    ...(req.by.aliases ? { aliases: req.by.aliases } : {}),
  };
  // The asker alone is judged here; whether a second approver is still needed is `awaitingApprover`'s.
  const unauthorized = checkApproval(policy.policy, req.by.login, [asker]).filter(
    (v) => v.rule === "approvers",
  );
  if (unauthorized.length > 0)
    return refuse(
      "unauthorized",
      `${req.by.login} may not approve under ${policy.source}`,
      unauthorized.map((v) => v.message),
    );
  if (policy.policy.requireSecondApprover) {
    const waiting = await awaitingApprover(app, resolved.value, req, asker, policy.source);
    if (waiting) return waiting;
  }

  const byService = new Map<string, Proposal[]>();
  for (const p of resolved.value) {
    const approved = req.target === undefined ? p : withTarget(p, req.target);
    byService.set(p.service, [...(byService.get(p.service) ?? []), approved]);
  }

  // Everything is built and checked first, so one bad service stops the whole approval before any write.
  const planned: {
    service: string;
    proposals: Proposal[];
    files: ChangeFile[];
    notes: string[];
    blast: BlastRadiusReport;
    checked: Record<string, string[]>;
  }[] = [];
  for (const [service, approved] of byService) {
    const existing = await host.readFile(specPath(service), ref);
    let spec: ChangeFile;
    try {
      spec = specFromProposals(service, approved, { ...(existing !== undefined ? { existing } : {}) });
    } catch (err) {
      if (err instanceof SpecMergeError || err instanceof SpecError)
        return refuse("validation-failed", `${specPath(service)} cannot take these SLOs: ${err.message}`);
      throw err;
    }
    const journeys = await journeysThrough(app.sql, [service]);
    const built = buildChangeSet(service, spec, {
      period: approved[0]!.window,
      runbooks: runbookContexts(approved, journeys),
    });
    if (!built.ok) return built;
    const assessment = await assess(app, host, built.value.files, ref, policy);
    if (!assessment.validation.ok)
      return refuse(
        "validation-failed",
        `the artifacts for ${service} did not pass validation; nothing was committed`,
        assessment.validation.messages,
      );
    if (assessment.violations.length > 0)
      return refuse(
        "policy",
        `${policy.source} refuses the change for ${service}; nothing was committed`,
        assessment.violations.map((v) => `[${v.rule}] ${v.message}`),
      );
    planned.push({
      service,
      proposals: approved,
      files: built.value.files,
      notes: [...built.value.notes, ...assessment.validation.notes],
      blast: assessment.blastRadius,
      checked: assessment.validation.checked,
    });
  }

  const out: ApprovedChange[] = [];
  for (const plan of planned) {
    const change = await host.openChange({
      service: plan.service,
      title: changeTitle(plan.service, plan.proposals),
      body: renderMarkdown(
        changeRequestView(
          {
            service: plan.service,
            proposals: plan.proposals,
            files: plan.files.map((f) => f.path),
            blastRadius: plan.blast,
            validation: { checked: plan.checked, notes: plan.notes },
            approvedBy: `${req.by.source}:${req.by.login}`,
            regenerate: `slo-scout generate ${LAYOUT.spec(plan.service)} --default-slo-period ${plan.proposals[0]!.window} -o rules`,
          },
          { commands: cliCommands() },
        ),
      ),
      files: plan.files,
      allowedPaths: policy.policy.allowedPaths,
      ...(req.baseRef ? { baseRef: req.baseRef } : {}),
      update: true,
    });
    const now = app.now();
    await app.sql.transaction(async (tx) => {
      for (const p of plan.proposals) await saveProposal(tx, { ...p, status: "committed" }, now);
      await clearApprovals(
        tx,
        plan.proposals.map((p) => p.id),
      );
      await appendAudit(tx, {
        at: now,
        actor: `${req.by.source}:${req.by.login}`,
        action: "approve",
        subject: `service:${plan.service}`,
        source: req.by.source,
        ...(req.by.chat ? { chat: req.by.chat } : {}),
        details: {
          proposals: plan.proposals.map((p) => p.id),
          change: { id: change.id, branch: change.branch, url: change.url, commit: change.commit },
          files: change.files,
        },
      });
    });
    out.push({
      service: plan.service,
      change,
      proposals: plan.proposals.map((p) => ({ ...p, status: "committed" as const })),
      files: plan.files,
      blastRadius: plan.blast,
      notes: plan.notes,
    });
  }
  return done(out);
}

/**
 * Under a policy that asks for a second approver: records this approval of each proposal (at its target and
 * its current version), then refuses with "waiting" unless every proposal has been approved at that target
 * and that version by someone other than its first approver. An approval of a version a re-analysis or an
 * amendment has since changed counts for nothing. The same person approving again renews their approval; it
 * does not count twice. Each approval was judged against the policy when it was given.
 */
async function awaitingApprover(
  app: AppContext,
  approved: Proposal[],
  req: ApproveRequest,
  asker: Approver,
  source: string,
): Promise<Outcome<never> | undefined> {
  const now = app.now();
  const ids = approved.map((p) => p.id);
  const versions = new Map(approved.map((p) => [p.id, proposalVersion(p)]));
  await app.sql.transaction(async (tx) => {
    await recordApprovals(
      tx,
      ids.map((proposalId) => ({
        proposalId,
        approver: `${req.by.source}:${req.by.login}`,
        login: req.by.login,
        ...(req.target !== undefined ? { target: req.target } : {}),
        version: versions.get(proposalId)!,
        at: now,
      })),
    );
  });
  const recorded = (await approvalsOf(app.sql, ids)).filter(
    (a) => a.target === req.target && a.version === versions.get(a.proposalId),
  );
  let fewest = Number.POSITIVE_INFINITY;
  for (const id of ids) {
    const logins = [...new Set(recorded.filter((a) => a.proposalId === id).map((a) => a.login))];
    const approvers = logins.map((login) => (login === asker.id ? asker : { id: login }));
    const secondMissing = checkApproval(
      { ...DEFAULT_POLICY, requireSecondApprover: true },
      logins[0] ?? asker.id,
      approvers,
    ).some((v) => v.rule === "second-approver");
    fewest = Math.min(fewest, secondMissing ? 1 : logins.length);
  }
  if (fewest >= 2) return undefined;
  await appendAudit(app.sql, {
    at: now,
    actor: `${req.by.source}:${req.by.login}`,
    action: "approve-first",
    subject: `service:${[...new Set(approved.map((p) => p.service))].sort().join(",")}`,
    source: req.by.source,
    ...(req.by.chat ? { chat: req.by.chat } : {}),
    details: { proposals: ids, ...(req.target !== undefined ? { target: req.target } : {}) },
  });
  const at = req.target === undefined ? "" : ` at ${req.target}%`;
  return refuse(
    "awaiting-approval",
    `1 of 2 approvals: waiting for another approver. ${source} asks for a second approver; ${req.by.login} approved ${ids.join(", ")}${at}, and the change opens when someone else allowed to approve approves the same${at ? " at the same target" : ""}.`,
  );
}

function changeTitle(service: string, proposals: Proposal[]): string {
  const names = proposals.map((p) => `${p.name ?? p.journey} ${p.target.recommended}%`);
  return `SLOs for ${service}: ${names.join(", ")}`.slice(0, 250);
}
