import { z } from "zod";
import { EvidencePointer } from "./evidence.js";
import { Confidence, Sli } from "./slo.js";

export const TargetRung = z.object({
  target: z.number(),
  worstWindowBudgetUsed: z.number(),
  daysInBreach: z.number().int().nonnegative(),
  pages: z.number().int().nonnegative(),
  tickets: z.number().int().nonnegative(),
  /** Most page episodes in one SLO window (scaled to a window when the history is shorter). */
  worstWindowPages: z.number().nonnegative().optional(),
  /** Bad events one window may hold at this target, from the average traffic. */
  allowedBadPerWindow: z.number().nonnegative().optional(),
});
export type TargetRung = z.infer<typeof TargetRung>;

/**
 * The error budget of a target in percent, as a fraction rounded to the target's own precision: 99.5 gives
 * 0.005, not the 0.0050000000000000044 that floating-point subtraction leaves.
 */
export function errorBudgetOf(targetPercent: number): number {
  const decimals = (String(targetPercent).split(".")[1]?.length ?? 0) + 2;
  return Number((1 - targetPercent / 100).toFixed(decimals));
}

export const Proposal = z.object({
  id: z.string(),
  service: z.string(),
  journey: z.string(),
  /** Short human name (e.g. "Checkout availability"); the LLM may refine it. */
  name: z.string().optional(),
  sli: Sli,
  target: z.object({
    recommended: z.number(),
    aspirational: z.number().optional(),
    safe: z.number().optional(),
    /** Fraction of events allowed to be bad at the recommended target. */
    errorBudget: z.number(),
  }),
  window: z.string(),
  backtest: z.object({ attainment: z.number(), days: z.number(), ladder: z.array(TargetRung) }),
  confidence: Confidence,
  evidence: z.array(EvidencePointer),
  warnings: z.array(z.string()).default([]),
  rationale: z.string().optional(),
  /** A reviewer's note, set through the API before the decision (PATCH /api/v1/proposals/{id}). */
  note: z.string().optional(),
  llm: z
    .object({ used: z.boolean(), model: z.string().optional(), reason: z.string().optional() })
    .optional(),
  status: z.enum(["proposed", "approved", "rejected", "committed"]).default("proposed"),
});
export type Proposal = z.infer<typeof Proposal>;

/**
 * What a list shows of a proposal: enough to choose one (SLI kind, targets, budget, attainment, confidence
 * score, status). The evidence, the backtest ladder, the confidence parts and the queries are in the whole
 * proposal. Parsing a proposal with it gives its summary (zod drops the other keys).
 */
export const ProposalSummary = z.object({
  id: Proposal.shape.id,
  service: Proposal.shape.service,
  journey: Proposal.shape.journey,
  name: Proposal.shape.name,
  sli: Sli.pick({ id: true, kind: true, source: true, threshold: true }),
  target: Proposal.shape.target,
  window: Proposal.shape.window,
  backtest: Proposal.shape.backtest.pick({ attainment: true, days: true }),
  confidence: Confidence.pick({ score: true }),
  status: Proposal.shape.status,
});
export type ProposalSummary = z.infer<typeof ProposalSummary>;

export const ArtifactKind = z.enum([
  "recording-rules",
  "alert-rules",
  "rule-tests",
  "dashboard",
  "runbook",
  "slo-spec",
]);

export const Artifact = z.object({
  kind: ArtifactKind,
  path: z.string(),
  content: z.string(),
  sloId: z.string().optional(),
  service: z.string(),
  validation: z.object({ ok: z.boolean(), messages: z.array(z.string()) }).optional(),
});
export type Artifact = z.infer<typeof Artifact>;

export const Policy = z.object({
  /** Where approved artifacts may be written; the defaults are where SLO-Scout writes them (src/app/layout). */
  allowedPaths: z.array(z.string()).default(["slos/**", "rules/**", "runbooks/**", "dashboards/**"]),
  approvers: z
    .object({
      users: z.array(z.string()).default([]),
      teams: z.array(z.string()).default([]),
      slackUserIds: z.array(z.string()).default([]),
    })
    .default({ users: [], teams: [], slackUserIds: [] }),
  requireSecondApprover: z.boolean().default(false),
  maxPagesPer28d: z.number().nonnegative().optional(),
  allowedSeverities: z.array(z.string()).default(["page", "ticket", "critical", "warning"]),
  requiredLabels: z.array(z.string()).default([]),
});
export type Policy = z.infer<typeof Policy>;
