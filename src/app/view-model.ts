import type { AnalysisResult, SkippedSli } from "../analysis/analyze.js";
import type { Simulation } from "../analysis/simulate.js";
import type { EvidencePointer } from "../core/evidence.js";
import type { Proposal, TargetRung } from "../core/proposal.js";
import type { AlertRef, BlastRadiusReport } from "../governance/blast-radius.js";
import type { Change } from "../store/ports.js";
import { type Command, DEFAULT_WINDOW, formatCommand } from "./command-language.js";
import { clip, num, pct, utc } from "./format.js";
import type { Refusal, RefusalCode } from "./outcome.js";
import {
  backtestChart,
  budgetCurveChart,
  type Flowchart,
  journeyGraph,
  type XyChart,
} from "./view-diagrams.js";

/**
 * What a reply shows, as plain data: one view-model per thing a use case returns (an analysis, a change,
 * a refusal, a simulation, a list of proposals), built without I/O so every chat, the CLI and the API
 * render the same content. Lists are cut to what a comment can hold, with the number left out, and free
 * text from telemetry is clipped; formatting for a medium (Markdown here) is the renderer's job.
 */

/** How a command is written for the reader to copy: `/slo-scout approve …` in a chat, a shell line on the CLI. */
export interface CommandStyle {
  prefix: string;
  suffix: string;
  /** Makes the command text safe between prefix and suffix (e.g. inside a double-quoted shell word). */
  quote(command: string): string;
}

/** Commands as a chat reads them; `prefix` is the bot's slash command and a space. */
export function chatCommands(prefix = "/slo-scout "): CommandStyle {
  return { prefix, suffix: "", quote: (c) => c };
}

/** Commands as one shell line, `slo-scout chat "<command>"`: the shell's `\ " $ \`` are escaped. */
export function cliCommands(prefix = 'slo-scout chat "'): CommandStyle {
  return { prefix, suffix: '"', quote: (c) => c.replace(/[\\"$`]/g, "\\$&") };
}

export interface ViewOptions {
  commands: CommandStyle;
}

/** A command to copy, and why one would run it. */
export interface NextCommand {
  command: string;
  why: string;
}

/** The first items of a list, how many were left out, and how many there are in all. */
export interface Shown<T> {
  items: T[];
  more: number;
  total: number;
}

/** How much of each list and text a reply holds; with these, a reply without details always fits a comment. */
const LIMITS = {
  rows: 20,
  proposals: 12,
  evidence: 10,
  ladder: 12,
  graphs: 4,
  name: 120,
  text: 300,
  query: 2000,
} as const;

function shown<T>(items: readonly T[], max: number): Shown<T> {
  return { items: items.slice(0, max), more: Math.max(0, items.length - max), total: items.length };
}

/** A command as text the command language reads back to the same command, in the reader's style. */
function command(opts: ViewOptions, c: Command, why: string): NextCommand {
  const { prefix, suffix, quote } = opts.commands;
  return { command: `${prefix}${quote(formatCommand(c))}${suffix}`, why };
}

const STATUS: Command = { verb: "status" };
const HELP: Command = { verb: "help" };
const DAY_MS = 86_400_000;

// ─── proposals ───────────────────────────────────────────────────────────────────────────────────────

export interface ProposalSummary {
  /** Position in the reply (`#1`), shared by tables, charts and details. */
  n: number;
  id: string;
  name: string;
  service: string;
  journey: string;
  kind: Proposal["sli"]["kind"];
  status: Proposal["status"];
  window: string;
  target: Proposal["target"];
  /** Bad events one window may hold at the recommended target, from the backtest's average traffic. */
  allowedBadPerWindow?: number;
  /** Budget the worst window of the backtest used at the recommended target (1 = all of it). */
  worstWindowBudgetUsed?: number;
  attainment: number;
  historyDays: number;
  confidence: number;
}

export interface LadderRow extends TargetRung {
  role?: "recommended" | "aspirational" | "safe";
}

export interface EvidenceRow {
  kind: EvidencePointer["kind"];
  ref: string;
  range?: string;
  note?: string;
}

export interface ProposalDetails extends ProposalSummary {
  description?: string;
  rationale?: string;
  threshold?: string;
  promql: { label: string; query: string }[];
  ladder: Shown<LadderRow>;
  confidenceParts: { name: string; score: number; weight: number; detail: string }[];
  evidence: Shown<EvidenceRow>;
  warnings: string[];
}

const sameTarget = (a: number, b: number) => Math.abs(a - b) < 1e-9;

function rungAt(p: Proposal, target: number): TargetRung | undefined {
  return p.backtest.ladder.find((r) => sameTarget(r.target, target));
}

function summary(p: Proposal, n: number): ProposalSummary {
  const rung = rungAt(p, p.target.recommended);
  return {
    n,
    id: p.id,
    name: clip(p.name ?? `${p.journey} ${p.sli.kind}`, LIMITS.name),
    service: clip(p.service, LIMITS.name),
    journey: clip(p.journey, LIMITS.name),
    kind: p.sli.kind,
    status: p.status,
    window: p.window,
    target: p.target,
    ...(rung?.allowedBadPerWindow !== undefined ? { allowedBadPerWindow: rung.allowedBadPerWindow } : {}),
    ...(rung ? { worstWindowBudgetUsed: rung.worstWindowBudgetUsed } : {}),
    attainment: p.backtest.attainment,
    historyDays: p.backtest.days,
    confidence: p.confidence.score,
  };
}

function roleOf(p: Proposal, target: number): LadderRow["role"] {
  if (sameTarget(target, p.target.recommended)) return "recommended";
  if (p.target.aspirational !== undefined && sameTarget(target, p.target.aspirational)) return "aspirational";
  if (p.target.safe !== undefined && sameTarget(target, p.target.safe)) return "safe";
  return undefined;
}

function evidenceRow(e: EvidencePointer): EvidenceRow {
  return {
    kind: e.kind,
    ref: clip(e.ref, LIMITS.text),
    ...(e.range ? { range: `${utc(e.range.start)} – ${utc(e.range.end)}` } : {}),
    ...(e.note ? { note: clip(e.note) } : {}),
  };
}

function details(p: Proposal, n: number): ProposalDetails {
  const q = p.sli.promql;
  const promql = [
    { label: "error ratio", query: q.errorRatio },
    ...(q.good ? [{ label: "good events", query: q.good }] : []),
    ...(q.total ? [{ label: "all events", query: q.total }] : []),
  ].map((x) => ({ ...x, query: clip(x.query, LIMITS.query) }));
  return {
    ...summary(p, n),
    ...(p.sli.description ? { description: clip(p.sli.description) } : {}),
    ...(p.rationale ? { rationale: clip(p.rationale) } : {}),
    ...(p.sli.threshold ? { threshold: `${num(p.sli.threshold.value, 3)} ${p.sli.threshold.unit}` } : {}),
    promql,
    ladder: shown(
      p.backtest.ladder.map((r) => {
        const role = roleOf(p, r.target);
        return role ? { ...r, role } : r;
      }),
      LIMITS.ladder,
    ),
    confidenceParts: p.confidence.parts.map((c) => ({ ...c, detail: clip(c.detail) })),
    evidence: shown(p.evidence.map(evidenceRow), LIMITS.evidence),
    warnings: p.warnings.slice(0, 5).map((w) => clip(w)),
  };
}

/** One proposal in full (targets, ladder, confidence parts, evidence, PromQL), for a page of its own. */
export function proposalView(p: Proposal): ProposalDetails {
  return details(p, 1);
}

// ─── analysis ────────────────────────────────────────────────────────────────────────────────────────

export interface JourneyRow {
  key: string;
  service: string;
  requests: number;
  trafficShare: number;
  errorShare: number;
  depth: number;
  userFacing: boolean;
}

export interface AnalysisView {
  kind: "analysis";
  service: string;
  window: string;
  /** The analysed span (the SLO window ending at the newest data); history may cover less of it. */
  range: { start: string; end: string };
  journeys: Shown<JourneyRow>;
  proposals: Shown<ProposalDetails>;
  /** The first journey's graph is shown; the others go in a collapsed block. */
  graph?: Flowchart;
  otherGraphs: Shown<Flowchart>;
  budgetChart?: XyChart;
  recommendations: Shown<{ journey?: string; message: string }>;
  skipped: Shown<SkippedSli>;
  warnings: string[];
  next: NextCommand[];
}

function analysisNext(a: AnalysisResult, opts: ViewOptions): NextCommand[] {
  const open = a.proposals.filter((p) => p.status === "proposed");
  const top = open[0];
  if (!top) {
    return [command(opts, STATUS, "see what telemetry SLO-Scout holds and what is missing")];
  }
  const n = `#${a.proposals.indexOf(top) + 1}`;
  const next = [
    command(
      opts,
      { verb: "approve", proposals: [top.id] },
      `approve ${n}, ${clip(top.name ?? top.journey, LIMITS.name)}, at ${pct(top.target.recommended)}`,
    ),
  ];
  if (open.length > 1) {
    next.push(
      command(
        opts,
        { verb: "approve", proposals: "all" },
        `approve every open proposal (these ${open.length} and any other service's) at its recommended target`,
      ),
    );
  }
  const stricter = top.target.aspirational;
  if (stricter !== undefined) {
    next.push(
      command(
        opts,
        { verb: "simulate", proposalId: top.id, targetPercent: stricter },
        `replay ${n} at its aspirational ${pct(stricter)} first`,
      ),
    );
  }
  return next;
}

export function analysisView(a: AnalysisResult, opts: ViewOptions): AnalysisView {
  const proposals = shown(a.proposals, LIMITS.proposals);
  const detailed = proposals.items.map((p, i) => details(p, i + 1));
  const chart = backtestChart(detailed, a.window);
  const graph = a.journeys[0] && journeyGraph(a.journeys[0], a.service);
  const others = shown(a.journeys.slice(1), LIMITS.graphs - 1);
  return {
    kind: "analysis",
    service: clip(a.service, LIMITS.name),
    window: a.window,
    range: { start: utc(a.range.start), end: utc(a.range.end) },
    journeys: shown(
      a.journeys.map((j) => ({
        key: clip(j.key, LIMITS.name),
        service: clip(j.service, LIMITS.name),
        requests: j.requests,
        trafficShare: j.trafficShare,
        errorShare: j.errorShare,
        depth: j.depth,
        userFacing: j.userFacing,
      })),
      LIMITS.rows,
    ),
    proposals: { ...proposals, items: detailed },
    ...(graph ? { graph } : {}),
    otherGraphs: { ...others, items: others.items.map((j) => journeyGraph(j, a.service)) },
    ...(chart ? { budgetChart: chart } : {}),
    recommendations: shown(
      a.recommendations.map((r) => ({
        ...(r.journey ? { journey: clip(r.journey, LIMITS.name) } : {}),
        message: clip(r.message),
      })),
      LIMITS.rows,
    ),
    skipped: shown(
      a.skipped.map((s) => ({ journey: clip(s.journey, LIMITS.name), kind: s.kind, reason: clip(s.reason) })),
      LIMITS.rows,
    ),
    warnings: a.warnings.slice(0, 10).map((w) => clip(w)),
    next: analysisNext(a, opts),
  };
}

// ─── proposals list ──────────────────────────────────────────────────────────────────────────────────

export interface ProposalsView {
  kind: "proposals";
  service?: string;
  proposals: Shown<ProposalSummary>;
  counts: Partial<Record<Proposal["status"], number>>;
  next: NextCommand[];
}

export function proposalsView(list: Proposal[], opts: ViewOptions & { service?: string }): ProposalsView {
  const counts: ProposalsView["counts"] = {};
  for (const p of list) counts[p.status] = (counts[p.status] ?? 0) + 1;
  const open = list.filter((p) => p.status === "proposed");
  const next: NextCommand[] = [];
  if (open[0]) {
    next.push(
      command(
        opts,
        { verb: "approve", proposals: [open[0].id] },
        `approve the newest open proposal at ${pct(open[0].target.recommended)}`,
      ),
    );
    next.push(
      command(
        opts,
        { verb: "simulate", proposalId: open[0].id, targetPercent: open[0].target.recommended },
        "replay it first",
      ),
    );
  } else if (opts.service) {
    next.push(
      command(
        opts,
        { verb: "analyze", service: opts.service, window: { text: DEFAULT_WINDOW, ms: 28 * DAY_MS } },
        `find the journeys of ${clip(opts.service, LIMITS.name)} and propose SLOs`,
      ),
    );
  } else {
    next.push(command(opts, STATUS, "see which services have telemetry to analyze"));
  }
  return {
    kind: "proposals",
    ...(opts.service ? { service: clip(opts.service, LIMITS.name) } : {}),
    proposals: shown(
      list.map((p, i) => summary(p, i + 1)),
      LIMITS.rows,
    ),
    counts,
    next,
  };
}

// ─── simulation ──────────────────────────────────────────────────────────────────────────────────────

export interface SimulationView {
  kind: "simulation";
  proposal: ProposalSummary;
  target: number;
  windowDays: number;
  errorBudget: number;
  summary: Simulation["summary"];
  chart?: XyChart;
  breaches: Shown<{ start: string; end: string; minBudgetRemaining: number }>;
  alerts: Shown<{ severity: string; start: string; windows: string; peakBurnRate: number }>;
  burnRateWindows: Simulation["burnRateWindows"];
  warnings: string[];
  next: NextCommand[];
}

export function simulationView(
  input: { proposal: Proposal; simulation: Simulation },
  opts: ViewOptions,
): SimulationView {
  const { proposal: p, simulation: sim } = input;
  const chart = budgetCurveChart(sim);
  // Approving at the simulated target needs --target only when it is not the recommended one.
  const approveCommand: Command = sameTarget(sim.target, p.target.recommended)
    ? { verb: "approve", proposals: [p.id] }
    : { verb: "approve", proposals: [p.id], targetPercent: sim.target };
  return {
    kind: "simulation",
    proposal: summary(p, 1),
    target: sim.target,
    windowDays: sim.windowDays,
    errorBudget: sim.errorBudget,
    summary: sim.summary,
    ...(chart ? { chart } : {}),
    breaches: shown(
      sim.breaches.map((b) => ({
        start: utc(b.start),
        end: utc(b.end),
        minBudgetRemaining: b.minBudgetRemaining,
      })),
      LIMITS.rows,
    ),
    alerts: shown(
      sim.alerts.map((a) => ({
        severity: a.severity,
        start: utc(a.start),
        windows: a.windows.join(", "),
        peakBurnRate: a.peakBurnRate,
      })),
      LIMITS.rows,
    ),
    burnRateWindows: sim.burnRateWindows,
    warnings: sim.warnings.slice(0, 10).map((w) => clip(w)),
    next: [command(opts, approveCommand, `approve ${p.id} at ${pct(sim.target)}`)],
  };
}

// ─── change ──────────────────────────────────────────────────────────────────────────────────────────

/** What `approve` returns for one service (its `ApprovedChange` fits). */
export interface ChangeInput {
  change: Pick<Change, "branch" | "url" | "files" | "title">;
  blastRadius: BlastRadiusReport;
  proposals: Proposal[];
  /** Remarks from generation (e.g. alerts left untested). */
  notes?: string[];
}

export interface ChangeView {
  kind: "change";
  title: string;
  branch: string;
  url: string;
  approved: Shown<ProposalSummary>;
  files: Shown<{ path: string; status?: string }>;
  services: string[];
  journeys: Shown<string>;
  dependents: string[];
  alerts: {
    /** Added, changed and removed alerts, in that order. */
    rows: Shown<AlertRef & { change: "added" | "changed" | "removed" }>;
    added: number;
    changed: number;
    removed: number;
    unchanged: number;
  };
  /** Expected pages a month from the dry-run, when one ran. */
  pages?: { perMonth: number; byService: { service: string; perMonth: number }[] };
  routes: Shown<{ receiver: string; via: string; alerts: string[] }>;
  notes: string[];
  next: NextCommand[];
}

export function changeView(input: ChangeInput, opts: ViewOptions): ChangeView {
  const r = input.blastRadius;
  const status = new Map(r.files.map((f) => [f.path, f.status]));
  const alertRows = (["added", "changed", "removed"] as const).flatMap((change) =>
    r.alerts[change].map((a) => ({ ...a, alert: clip(a.alert, LIMITS.name), change })),
  );
  const services = [...new Set(input.proposals.map((p) => p.service))];
  return {
    kind: "change",
    title: clip(input.change.title, LIMITS.name),
    branch: clip(input.change.branch, LIMITS.name),
    url: clip(input.change.url, LIMITS.text),
    approved: shown(
      input.proposals.map((p, i) => summary(p, i + 1)),
      LIMITS.rows,
    ),
    files: shown(
      input.change.files.map((path) => {
        const s = status.get(path);
        return s ? { path: clip(path), status: s } : { path: clip(path) };
      }),
      LIMITS.rows,
    ),
    services: r.services.slice(0, LIMITS.rows).map((s) => clip(s, LIMITS.name)),
    journeys: shown(
      r.journeys.map((j) => clip(j, LIMITS.name)),
      LIMITS.rows,
    ),
    dependents: r.dependents.slice(0, LIMITS.rows).map((s) => clip(s, LIMITS.name)),
    alerts: {
      rows: shown(alertRows, LIMITS.rows),
      added: r.alerts.added.length,
      changed: r.alerts.changed.length,
      removed: r.alerts.removed.length,
      unchanged: r.alerts.unchanged,
    },
    ...(r.pagesPerMonth !== undefined
      ? {
          pages: {
            perMonth: r.pagesPerMonth,
            byService: Object.entries(r.pagesPerMonthByService ?? {})
              .slice(0, LIMITS.rows)
              .map(([service, perMonth]) => ({ service: clip(service, LIMITS.name), perMonth })),
          },
        }
      : {}),
    routes: shown(
      r.routes.map((x) => ({
        receiver: clip(x.receiver, LIMITS.name),
        via: clip(x.via),
        alerts: [...new Set(x.alerts)].slice(0, 10).map((a) => clip(a, LIMITS.name)),
      })),
      LIMITS.rows,
    ),
    notes: (input.notes ?? []).slice(0, 10).map((n) => clip(n)),
    next:
      services.length === 1
        ? [
            command(
              opts,
              { verb: "proposals", service: services[0]! },
              `see what is still open for ${clip(services[0]!, LIMITS.name)}`,
            ),
          ]
        : [command(opts, { verb: "proposals" }, "see what is still open")],
  };
}

/** What `approve` knows of one service's change before the host opens it. */
export interface ChangeRequestInput {
  service: string;
  proposals: Proposal[];
  files: string[];
  blastRadius: BlastRadiusReport;
  /** The validators that passed, each with the files it checked; remarks they made. */
  validation: { checked: Record<string, string[]>; notes: string[] };
  approvedBy: string;
  /** The command that regenerates the rules from the spec. */
  regenerate: string;
}

/**
 * The description of the change an approval opens (a pull or merge request, the local repository's
 * record), in the manner of Renovate's: what changes, why (targets considered, evidence), blast radius,
 * validation, how to regenerate. It reuses the change view's blast radius, so the two cannot disagree.
 */
export interface ChangeRequestView extends Omit<ChangeView, "kind" | "title" | "branch" | "url" | "next"> {
  kind: "change-request";
  service: string;
  approvedBy: string;
  why: Shown<ProposalDetails>;
  validation: { checks: { validator: string; files: number }[]; notes: string[] };
  regenerate: string;
}

export function changeRequestView(input: ChangeRequestInput, opts: ViewOptions): ChangeRequestView {
  const {
    kind: _kind,
    title: _title,
    branch: _branch,
    url: _url,
    next: _next,
    ...change
  } = changeView(
    {
      change: { branch: "", url: "", title: "", files: input.files },
      blastRadius: input.blastRadius,
      proposals: input.proposals,
      notes: input.validation.notes,
    },
    opts,
  );
  return {
    ...change,
    kind: "change-request",
    service: clip(input.service, LIMITS.name),
    approvedBy: clip(input.approvedBy, LIMITS.name),
    why: shown(
      input.proposals.map((p, i) => details(p, i + 1)),
      LIMITS.proposals,
    ),
    validation: {
      checks: Object.entries(input.validation.checked)
        .filter(([, files]) => files.length > 0)
        .map(([validator, files]) => ({ validator: clip(validator, LIMITS.name), files: files.length })),
      notes: input.validation.notes.slice(0, 10).map((n) => clip(n)),
    },
    regenerate: clip(input.regenerate, LIMITS.text),
  };
}

// ─── refusal ─────────────────────────────────────────────────────────────────────────────────────────

export interface RefusalView {
  kind: "refusal";
  code: RefusalCode;
  title: string;
  reason: string;
  details: Shown<string>;
  correlationId?: string;
  next: NextCommand[];
}

const REFUSAL_TITLES: Record<RefusalCode, string> = {
  "unknown-id": "Unknown id",
  "unknown-service": "Unknown service",
  "already-decided": "Already decided",
  unauthorized: "Not authorized",
  policy: "Refused by policy",
  "validation-failed": "Validation failed",
  "not-enough-history": "Not enough history",
  "bad-request": "Not understood",
  locked: "Held by another change",
  "invalid-config": "Repository configuration not valid",
  "awaiting-approval": "Waiting for a second approver",
  internal: "Something went wrong on our side",
};

/** Where to go from each refusal when the caller knows nothing better. */
const REFUSAL_NEXT: Record<RefusalCode, { command: Command; why: string }> = {
  "unknown-id": { command: { verb: "proposals" }, why: "list the proposals and their ids" },
  "unknown-service": { command: STATUS, why: "see which services have telemetry" },
  "already-decided": { command: { verb: "proposals" }, why: "list the proposals still open" },
  unauthorized: { command: { verb: "help", topic: "approve" }, why: "see who may approve, and how" },
  policy: { command: HELP, why: "see the commands" },
  "validation-failed": { command: HELP, why: "see the commands" },
  "not-enough-history": { command: STATUS, why: "see how much history each service has" },
  "bad-request": { command: HELP, why: "see the commands and their options" },
  locked: { command: STATUS, why: "see what is running and which proposals wait" },
  "invalid-config": {
    command: { verb: "help", topic: "approve" },
    why: "see what an approval reads from the repository",
  },
  "awaiting-approval": { command: { verb: "help", topic: "approve" }, why: "see who may approve, and how" },
  internal: { command: STATUS, why: "check that SLO-Scout's stores are reachable, then try again" },
};

export function refusalView(
  refusal: Refusal & { correlationId?: string },
  opts: ViewOptions & { next?: { command: Command; why: string } },
): RefusalView {
  const next = opts.next ?? REFUSAL_NEXT[refusal.code];
  return {
    kind: "refusal",
    code: refusal.code,
    title: REFUSAL_TITLES[refusal.code],
    reason: clip(refusal.reason, 2 * LIMITS.text),
    details: shown(
      (refusal.details ?? []).map((d) => clip(d)),
      LIMITS.rows,
    ),
    ...(refusal.correlationId ? { correlationId: clip(refusal.correlationId, LIMITS.name) } : {}),
    next: [command(opts, next.command, next.why)],
  };
}

// ─── status and help ─────────────────────────────────────────────────────────────────────────────────

/** What `status` reports per service (its `Status` fits). */
export interface StatusInput {
  services: {
    name: string;
    signals: string[];
    lastSeen?: number;
    historyDays: number;
    journeys: number;
    proposals: Partial<Record<Proposal["status"], number>>;
  }[];
}

export interface StatusView {
  kind: "status";
  services: Shown<{
    name: string;
    signals: string;
    lastSeen?: string;
    historyDays: number;
    journeys: number;
    proposals: string;
  }>;
  next: NextCommand[];
}

export function statusView(input: StatusInput, opts: ViewOptions): StatusView {
  const withOpen = input.services.find((s) => (s.proposals.proposed ?? 0) > 0);
  const mostHistory = [...input.services].sort((a, b) => b.historyDays - a.historyDays)[0];
  let next: NextCommand;
  if (withOpen) {
    next = command(
      opts,
      { verb: "proposals", service: withOpen.name },
      `see the open proposals of ${clip(withOpen.name, LIMITS.name)}`,
    );
  } else if (mostHistory) {
    next = command(
      opts,
      { verb: "analyze", service: mostHistory.name, window: { text: DEFAULT_WINDOW, ms: 28 * DAY_MS } },
      `find the journeys of ${clip(mostHistory.name, LIMITS.name)} and propose SLOs`,
    );
  } else {
    next = command(opts, HELP, "see the commands (send telemetry first: OTLP, remote_write or logs)");
  }
  return {
    kind: "status",
    services: shown(
      input.services.map((s) => ({
        name: clip(s.name, LIMITS.name),
        signals: s.signals.join(", "),
        ...(s.lastSeen !== undefined ? { lastSeen: utc(s.lastSeen) } : {}),
        historyDays: s.historyDays,
        journeys: s.journeys,
        proposals: Object.entries(s.proposals)
          .map(([status, n]) => `${n} ${status}`)
          .join(", "),
      })),
      LIMITS.rows,
    ),
    next: [next],
  };
}

export interface HelpView {
  kind: "help";
  /** The command language's usage text, shown as it is. */
  text: string;
  next: NextCommand[];
}

export function helpView(text: string, opts: ViewOptions): HelpView {
  return {
    kind: "help",
    text,
    next: [command(opts, STATUS, "see which services have telemetry to analyze")],
  };
}

export type ViewModel =
  | AnalysisView
  | ProposalsView
  | SimulationView
  | ChangeView
  | RefusalView
  | StatusView
  | HelpView;
