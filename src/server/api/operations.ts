import { z } from "zod";
import { analysisJob, startAnalysis } from "../../app/analysis-jobs.js";
import { approve } from "../../app/approve.js";
import { capsule, capsules } from "../../app/capsules.js";
import { change, changes } from "../../app/changes.js";
import { parseCommand } from "../../app/command-language.js";
import type { AppContext } from "../../app/context.js";
import { converse } from "../../app/conversation.js";
import { fingerprintLines } from "../../app/fingerprint.js";
import { journeys } from "../../app/journeys.js";
import type { Outcome } from "../../app/outcome.js";
import { type Actor, amend, proposal, proposalSummaries, reject } from "../../app/proposals.js";
import { renderMarkdown } from "../../app/render-markdown.js";
import { review } from "../../app/review.js";
import { simulate, simulateSli } from "../../app/simulate.js";
import { status } from "../../app/status.js";
import { cliCommands } from "../../app/view-model.js";
import { parseDuration } from "../../core/duration.js";
import { Proposal } from "../../core/proposal.js";
import type { Principal, Scope } from "../auth.js";
import { type Cursor, pageOf } from "./pagination.js";
import * as S from "./schemas.js";

/**
 * Every operation of /api/v1, as data: the route, the scope it needs, its schemas (the OpenAPI document is
 * generated from this table) and a handler that calls one use case of src/app and returns its value. A
 * refusal of the use case becomes an error answer (see plugin.ts); nothing here decides anything.
 */

export const API_PREFIX = "/api/v1";

export interface HandlerInput {
  app: AppContext;
  params: Record<string, string>;
  // Parsed by the operation's schemas before the handler runs.
  // biome-ignore lint/suspicious/noExplicitAny: each handler reads the fields its own schema parsed.
  query: any;
  // biome-ignore lint/suspicious/noExplicitAny: as above.
  body: any;
  actor: Actor;
  principal: Principal;
  cursor: Cursor;
}

export type HandlerResult = { status: number; body: unknown } | Outcome<never>;

export interface Operation {
  id: string;
  method: "GET" | "POST" | "PATCH";
  /** OpenAPI path template under /api/v1, e.g. `/proposals/{id}`. */
  path: string;
  summary: string;
  /** The scope the caller needs; `scopeFor` picks it from the request when it depends on the body. */
  scope: Scope;
  scopeFor?: (body: unknown) => Scope;
  params?: z.ZodObject;
  query?: z.ZodType;
  body?: z.ZodType;
  /** The success status and its schema. */
  status: number;
  response: z.ZodType;
  /** The refusals this operation can answer with (besides 400, 401, 403 and 5xx). */
  errors?: number[];
  handle(input: HandlerInput): Promise<HandlerResult>;
}

const ok = (body: unknown, status = 200): HandlerResult => ({ status, body });
const value = <T>(o: Outcome<T>, status = 200): HandlerResult =>
  o.ok ? ok(o.value, status) : (o as Outcome<never>);
const byId = <T extends z.ZodType>(schema: T) => z.object({ id: schema });

/** Verbs of the chat language that change something: they need the approve scope. */
const WRITING_VERBS = new Set(["analyze", "approve", "reject"]);

export const OPERATIONS: Operation[] = [
  {
    id: "startAnalysis",
    method: "POST",
    path: "/analyses",
    summary: "Start an analysis of a service (journeys, SLIs, targets); answers 202 with the job to poll",
    scope: "approve",
    body: S.AnalysisRequest,
    status: 202,
    response: S.AnalysisJob,
    errors: [404],
    async handle({ app, body, actor }) {
      const { step, ...rest } = body as z.infer<typeof S.AnalysisRequest>;
      const stepMs = step === undefined ? undefined : parseDuration(step);
      if (stepMs !== undefined && (!(stepMs > 0) || 86_400_000 % stepMs !== 0))
        return {
          ok: false,
          refusal: { code: "bad-request", reason: `step must divide a day (e.g. 1m, 5m, 1h), got ${step}` },
        };
      return value(await startAnalysis(app, { ...rest, ...(stepMs ? { stepMs } : {}) }, actor), 202);
    },
  },
  {
    id: "getAnalysis",
    method: "GET",
    path: "/analyses/{id}",
    summary: "An analysis job: queued, running, done (with the result), refused or failed (with the reason)",
    scope: "read",
    params: byId(S.AnalysisId),
    status: 200,
    response: S.AnalysisJob,
    errors: [404],
    async handle({ app, params }) {
      return value(await analysisJob(app, params.id!));
    },
  },
  {
    id: "listServices",
    method: "GET",
    path: "/services",
    summary: "Services that sent telemetry: signals, history, journeys and proposals by status",
    scope: "read",
    query: S.PageQuery,
    status: 200,
    response: S.ServicePage,
    async handle({ app, cursor }) {
      return ok(pageOf((await status(app)).services, cursor));
    },
  },
  {
    id: "listJourneys",
    method: "GET",
    path: "/services/{service}/journeys",
    summary: "The journeys the last analysis of a service stored, best first",
    scope: "read",
    params: z.object({ service: S.ServiceName }),
    query: S.PageQuery,
    status: 200,
    response: S.JourneyPage,
    errors: [404],
    async handle({ app, params, cursor }) {
      const found = await journeys(app, params.service!);
      return found.ok ? ok(pageOf(found.value, cursor)) : found;
    },
  },
  {
    id: "listProposals",
    method: "GET",
    path: "/proposals",
    summary:
      "Proposals, newest first, by service and status, as summaries: SLI kind, targets, error budget, attainment, " +
      "confidence score, status and links; GET /proposals/{id} for the whole proposal",
    scope: "read",
    query: S.ProposalQuery,
    status: 200,
    response: S.ProposalPage,
    async handle({ app, query, cursor }) {
      const { service, status: st } = query as z.infer<typeof S.ProposalQuery>;
      const rows = await proposalSummaries(app, {
        ...(service ? { service } : {}),
        ...(st ? { status: st } : {}),
        limit: cursor.offset + cursor.limit + 1,
      });
      const page = pageOf(rows, cursor);
      return ok({
        ...page,
        items: page.items.map((p) => ({
          ...p,
          links: { self: `${API_PREFIX}/proposals/${p.id}`, html: `/proposals/${p.id}` },
        })),
      });
    },
  },
  {
    id: "getProposal",
    method: "GET",
    path: "/proposals/{id}",
    summary: "One proposal: SLI, targets, backtest, confidence and evidence",
    scope: "read",
    params: byId(S.ProposalId),
    status: 200,
    response: Proposal,
    errors: [404],
    async handle({ app, params }) {
      return value(await proposal(app, params.id!));
    },
  },
  {
    id: "updateProposal",
    method: "PATCH",
    path: "/proposals/{id}",
    summary: "Change an open proposal's recommended target or note before the decision",
    scope: "approve",
    params: byId(S.ProposalId),
    body: S.ProposalPatch,
    status: 200,
    response: Proposal,
    errors: [404, 409],
    async handle({ app, params, body, actor }) {
      const patch = body as z.infer<typeof S.ProposalPatch>;
      return value(await amend(app, params.id!, { by: actor, ...patch }));
    },
  },
  {
    id: "simulateProposal",
    method: "POST",
    path: "/proposals/{id}/simulate",
    summary: "Replay the proposal's SLI history against a target: budget over time, breaches, pages, tickets",
    scope: "read",
    params: byId(S.ProposalId),
    body: S.SimulateRequest,
    status: 200,
    response: S.SliSimulation,
    errors: [404, 422],
    async handle({ app, params, body }) {
      const found = await simulate(app, params.id!, {
        target: (body as z.infer<typeof S.SimulateRequest>).target,
      });
      if (!found.ok) return found;
      const { proposal: _p, ...rest } = found.value;
      return ok(rest);
    },
  },
  {
    id: "approveProposal",
    method: "POST",
    path: "/proposals/{id}/approve",
    summary: "Approve: SLO spec → validated rules, alerts, dashboard, runbook → a change on the git host",
    scope: "approve",
    params: byId(S.ProposalId),
    body: S.ApproveRequest,
    status: 200,
    response: S.Approval,
    errors: [202, 404, 409, 422],
    async handle({ app, params, body, actor }) {
      const { target } = body as z.infer<typeof S.ApproveRequest>;
      const outcome = await approve(app, [params.id!], {
        by: actor,
        ...(target !== undefined ? { target } : {}),
      });
      if (!outcome.ok) return outcome;
      return ok({
        changes: outcome.value.map((c) => ({
          service: c.service,
          change: c.change,
          proposals: c.proposals,
          files: c.files.map((f) => f.path),
          blastRadius: c.blastRadius,
          notes: c.notes,
        })),
      });
    },
  },
  {
    id: "rejectProposal",
    method: "POST",
    path: "/proposals/{id}/reject",
    summary: "Reject an open proposal, with a reason",
    scope: "approve",
    params: byId(S.ProposalId),
    body: S.RejectRequest,
    status: 200,
    response: Proposal,
    errors: [404, 409],
    async handle({ app, params, body, actor }) {
      const { reason } = body as z.infer<typeof S.RejectRequest>;
      return value(await reject(app, params.id!, { by: actor, ...(reason ? { reason } : {}) }));
    },
  },
  {
    id: "simulateSli",
    method: "POST",
    path: "/simulations",
    summary: "Replay any SLI of a service (ids from an analysis) against a target, over a chosen window",
    scope: "read",
    body: S.SimulationRequest,
    status: 200,
    response: S.SliSimulation,
    errors: [404, 422],
    async handle({ app, body }) {
      const req = body as z.infer<typeof S.SimulationRequest>;
      const stepMs = req.step ? parseDuration(req.step) : undefined;
      const everyMs = req.every ? parseDuration(req.every) : undefined;
      if (stepMs !== undefined && (!(stepMs > 0) || 86_400_000 % stepMs !== 0))
        return {
          ok: false,
          refusal: {
            code: "bad-request",
            reason: `step must divide a day (e.g. 1m, 5m, 1h), got ${req.step}`,
          },
        };
      if (everyMs !== undefined && (!(everyMs > 0) || everyMs % (stepMs ?? 300_000) !== 0))
        return {
          ok: false,
          refusal: { code: "bad-request", reason: `every must be a multiple of the step, got ${req.every}` },
        };
      return value(
        await simulateSli(app, {
          service: req.service,
          sliId: req.sli,
          target: req.target,
          window: req.window ?? "28d",
          ...(stepMs ? { stepMs } : {}),
          ...(everyMs ? { everyMs } : {}),
          ...(req.end !== undefined ? { end: req.end } : {}),
        }),
      );
    },
  },
  {
    id: "listChanges",
    method: "GET",
    path: "/changes",
    summary: "Changes approvals opened (pull/merge requests or local branches), newest first",
    scope: "read",
    query: S.ChangeQuery,
    status: 200,
    response: S.ChangePage,
    async handle({ app, query, cursor }) {
      const { service } = query as z.infer<typeof S.ChangeQuery>;
      const all = await changes(app, { ...(service ? { service } : {}), limit: 10_000 });
      // The audit log has an entry per approval; a change approvals updated is listed once, as last left.
      const latest = all.filter((c, i) => all.findIndex((d) => d.id === c.id) === i);
      return ok(pageOf(latest, cursor));
    },
  },
  {
    id: "getChange",
    method: "GET",
    path: "/changes/{id}",
    summary:
      "One change as the git host holds it (branch, head commit, files, title, body) and its approvals",
    scope: "read",
    params: byId(S.ChangeId),
    status: 200,
    response: S.ChangeDetails,
    errors: [404],
    async handle({ app, params }) {
      return value(await change(app, params.id!));
    },
  },
  {
    id: "review",
    method: "POST",
    path: "/reviews",
    summary: "Review specs and rule files: regeneration check, validation, policy guard and blast radius",
    scope: "read",
    body: S.ReviewRequest,
    status: 200,
    response: S.Review,
    errors: [422],
    async handle({ app, body }) {
      const req = body as z.infer<typeof S.ReviewRequest>;
      return value(await review(app, req.files, req.baseRef ? { baseRef: req.baseRef } : {}));
    },
  },
  {
    id: "listCapsules",
    method: "GET",
    path: "/capsules",
    summary: "Log capsules (a fingerprint's hourly aggregate with redacted samples), newest first",
    scope: "read",
    query: S.CapsuleQuery,
    status: 200,
    response: S.CapsulePage,
    async handle({ app, query, cursor }) {
      const q = query as z.infer<typeof S.CapsuleQuery>;
      const rows = await capsules(app, {
        ...(q.service ? { service: q.service } : {}),
        ...(q.since !== undefined ? { since: q.since } : {}),
        ...(q.until !== undefined ? { until: q.until } : {}),
        limit: cursor.offset + cursor.limit + 1,
      });
      return ok(pageOf(rows, cursor));
    },
  },
  {
    id: "getCapsule",
    method: "GET",
    path: "/capsules/{id}",
    summary: "One capsule: template, counts by severity, redacted samples",
    scope: "read",
    params: byId(S.CapsuleId),
    status: 200,
    response: S.CapsuleView,
    errors: [404],
    async handle({ app, params }) {
      return value(await capsule(app, params.id!));
    },
  },
  {
    id: "fingerprint",
    method: "POST",
    path: "/fingerprint",
    summary: "Log lines → template and fingerprint per line (redacted first; nothing is stored)",
    scope: "read",
    body: S.FingerprintRequest,
    status: 200,
    response: S.FingerprintResult,
    async handle({ app, body }) {
      const req = body as z.infer<typeof S.FingerprintRequest>;
      return ok({
        lines: fingerprintLines(app, req.lines, {
          ...(req.service ? { service: req.service } : {}),
          ...(req.raw ? { raw: true } : {}),
        }),
      });
    },
  },
  {
    id: "converse",
    method: "POST",
    path: "/conversations",
    summary: "Run one command of the chat language and get the Markdown reply the bots would post",
    scope: "read",
    scopeFor: (body) => {
      const text = (body as { text?: unknown } | undefined)?.text;
      const parsed = typeof text === "string" ? parseCommand(text) : undefined;
      return parsed?.ok && WRITING_VERBS.has(parsed.command.verb) ? "approve" : "read";
    },
    body: S.ConversationRequest,
    status: 200,
    response: S.ConversationReply,
    async handle({ app, body, actor }) {
      const reply = await converse(app, (body as z.infer<typeof S.ConversationRequest>).text, actor, {
        commands: cliCommands(),
      });
      return ok({
        ok: reply.ok,
        correlationId: reply.correlationId,
        markdown: reply.views.map(renderMarkdown).join("\n\n---\n\n"),
      });
    },
  },
];
