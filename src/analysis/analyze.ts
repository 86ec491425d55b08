import { createHash } from "node:crypto";
import type { EdgeStats, ExampleTrace, RouteStats, WebVitalStats } from "../core/aggregates.js";
import type { InstrumentationRecommendation } from "../core/evidence.js";
import type { SliHistory } from "../core/history.js";
import type { Journey } from "../core/journey.js";
import type { Proposal } from "../core/proposal.js";
import { storeQuerier } from "../history/store-source.js";
import { MemorySource } from "../promql/index.js";
import type { Sql } from "../store/ports.js";
import {
  listEdgeStats,
  listExampleTraces,
  listRouteStats,
  listWebVitalStats,
} from "../store/repos/aggregates.js";
import { listLogWindowCounts } from "../store/repos/capsules.js";
import { listLateEvents } from "../store/repos/late-events.js";
import { listServices } from "../store/repos/services.js";
import { WEB_VITAL_LADDER } from "./backtest.js";
import type { LogWindowCounts } from "./derived-series.js";
import { buildEvidence, type ErrorCapsule, journeyServices, topErrorCapsules } from "./evidence.js";
import { DAY_MS, HistoryError, InsufficientHistoryError, parseWindowDays } from "./history.js";
import {
  addLogSeries,
  addWebVitalSeries,
  type HistoryRange,
  latestSampleTime,
  loadInventory,
  type MetricCatalog,
  type RangeQuerier,
  readLatencyHistory,
  readSliHistory,
  routedQuerier,
  storeCatalog,
} from "./history-source.js";
import { discoverJourneys, journeysOf } from "./journeys.js";
import type { FindSimilarCapsules } from "./llm/context.js";
import { type LlmSettings, refineProposals } from "./llm/refine.js";
import { recommendInstrumentation } from "./recommendations.js";
import {
  type CoreVital,
  latencyCandidate,
  logCandidate,
  type MetricInventory,
  metricJourneys,
  rumCandidate,
  type SliCandidate,
  sliCandidates,
  sliId,
  sliKindLabel,
  WEB_VITAL_GOOD,
} from "./sli.js";
import { latencyThreshold, mergeLatencyHistory, proposeTarget } from "./targets.js";

/**
 * The analysis of one service: its journeys, SLI candidates as PromQL, targets backtested on the history
 * those PromQL queries return, confidence, evidence, instrumentation advice and (optionally) LLM wording.
 * I/O is limited to reading the store and the querier; every decision is one of the pure functions.
 */

export class UnknownServiceError extends Error {
  override name = "UnknownServiceError";
  constructor(
    readonly service: string,
    readonly known: string[],
  ) {
    super(
      known.length
        ? `unknown service "${service}". Known services: ${known.join(", ")}`
        : `unknown service "${service}": no telemetry has been stored yet (run slo-scout ingest, or point DATABASE_URL at the store)`,
    );
  }
}

export interface AnalyzeDeps {
  sql: Sql;
  /** Answers the SLI PromQL; default: SLO-Scout's evaluator over the stored samples. */
  querier?: RangeQuerier;
  /** Lists the series SLI candidates are built from; default: the store's series. */
  catalog?: MetricCatalog;
  llm?: { settings?: LlmSettings; findSimilarCapsules?: FindSimilarCapsules };
  onProgress?: (p: { done: number; total: number; label: string }) => void;
  /** Receives each SLI's history as read (what `simulate` replays). */
  onHistory?: (sli: Proposal["sli"], history: SliHistory) => void;
}

export interface AnalyzeOptions {
  /** SLO window, e.g. `28d`. Default 28d. */
  window?: string;
  /** End of the analysed history (epoch ms); default: the newest stored data. */
  end?: number;
  /** History step; default 5 minutes. */
  stepMs?: number;
  /** Latency threshold quantile; default 0.95. */
  quantile?: number;
  /** Journeys that get proposals, best first; default 8. */
  maxJourneys?: number;
  /** Only this SLI (by id); an id the analysis does not produce is an UnknownSliError. */
  sliId?: string;
}

export class UnknownSliError extends Error {
  override name = "UnknownSliError";
  constructor(
    readonly sliId: string,
    readonly known: string[],
  ) {
    super(
      known.length
        ? `no SLI ${sliId} in this analysis. SLIs: ${known.join(", ")}`
        : `no SLI ${sliId}: the analysis found no SLI candidates`,
    );
  }
}

export interface SkippedSli {
  journey: string;
  kind: string;
  reason: string;
}

/** The stable shape behind `slo-scout analyze --json`, the API and the bots. */
export interface AnalysisResult {
  service: string;
  window: string;
  range: HistoryRange;
  journeys: Journey[];
  proposals: Proposal[];
  recommendations: InstrumentationRecommendation[];
  /** SLIs that could not be proposed, with the reason (e.g. less than 7 days of history). */
  skipped: SkippedSli[];
  warnings: string[];
}

const HOUR_MS = 3_600_000;
const DEFAULT_STEP_MS = 5 * 60_000;

async function knownServices(sql: Sql): Promise<string[]> {
  const names = new Set((await listServices(sql)).map((s) => s.name));
  const { rows } = await sql.query<{ service: string }>(
    `SELECT DISTINCT service FROM route_stats UNION SELECT DISTINCT service FROM capsules`,
  );
  for (const r of rows) names.add(r.service);
  return [...names].sort();
}

/** Severity counts of a service's capsules per fingerprint and window: the input of the log SLI. */
function logCounts(sql: Sql, service: string, since: number, until: number): Promise<LogWindowCounts[]> {
  return listLogWindowCounts(sql, { service, since, until });
}

/** The newest time any stored telemetry covers: where an analysis or a dry-run over the store ends. */
export async function latestDataTime(sql: Sql): Promise<number | undefined> {
  const { rows } = await sql.query<{ r: number | string | null; c: number | string | null }>(
    `SELECT (SELECT max(window_start) FROM route_stats) AS r, (SELECT max(window_start) FROM capsules) AS c`,
  );
  const times = [await latestSampleTime(sql)];
  if (rows[0]?.r != null) times.push(Number(rows[0].r) + HOUR_MS);
  if (rows[0]?.c != null) times.push(Number(rows[0].c) + HOUR_MS);
  const known = times.filter((t): t is number => t !== undefined);
  return known.length ? Math.max(...known) : undefined;
}

/** Loads the aggregates of every journey that involves the service (its own, and those passing through it). */
async function loadAggregates(sql: Sql, service: string, since: number, until: number) {
  const touching = await listEdgeStats(sql, { service, since, until });
  const keys = [...new Set(touching.map((e) => e.journeyKey))];
  const [edges, ownRoutes, otherRoutes] = await Promise.all([
    keys.length
      ? listEdgeStats(sql, { journeyKeys: keys, since, until })
      : Promise.resolve([] as EdgeStats[]),
    listRouteStats(sql, { service, since, until }),
    Promise.all(keys.map((k) => listRouteStats(sql, { journeyKey: k, since, until }))),
  ]);
  // All journeys of the entry services involved, so a journey's traffic share is of its whole service.
  const entryServices = [...new Set(otherRoutes.flat().map((r) => r.service))].filter((s) => s !== service);
  const siblings = await Promise.all(
    entryServices.map((s) => listRouteStats(sql, { service: s, since, until })),
  );
  const routes = new Map<string, RouteStats>();
  for (const r of [...ownRoutes, ...otherRoutes.flat(), ...siblings.flat()]) {
    routes.set(`${r.journeyKey}\u0000${r.windowStart}`, r);
  }
  return { routes: [...routes.values()], edges };
}

function proposalId(service: string, sliId: string, window: string): string {
  return `prop-${createHash("sha256").update(`${service}\u0000${sliId}\u0000${window}`).digest("hex").slice(0, 12)}`;
}

const KIND_NAME: Record<string, string> = {
  availability: "availability",
  latency: "latency",
  log: "log error ratio",
  rum: "page experience",
};

/** A pseudo-journey for a service that sends only logs, so its log SLI has something to belong to. */
function logsJourney(service: string): Journey {
  return {
    key: `${service} (logs)`,
    service,
    entrySpans: [],
    downstream: [],
    signature: "",
    trafficShare: 1,
    requests: 0,
    errorShare: 0,
    depth: 0,
    userFacing: false,
    score: 0,
    exampleTraceIds: [],
  };
}

/** The RUM page of a user-facing journey: the page its route serves, or the page its API call belongs to. */
function pageOf(j: Journey, pages: string[]): string | undefined {
  if (!j.route) return undefined;
  const route = j.route;
  const decoded = (p: string) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  };
  return (
    pages.find((p) => decoded(p) === route) ??
    pages.find((p) => decoded(p) !== "/" && route.endsWith(decoded(p)))
  );
}

/**
 * Analyses one service, phase by phase: check the service is known, fix the analysed span, find the
 * traced journeys, load what SLIs are measured from, fall back to metric or log journeys, plan the SLIs,
 * propose a target for each from its history, then name and (optionally) reword the proposals.
 */
export async function analyzeService(
  service: string,
  deps: AnalyzeDeps,
  opts: AnalyzeOptions = {},
): Promise<AnalysisResult> {
  const { sql } = deps;
  const window = opts.window ?? "28d";
  const windowDays = parseWindowDays(window);
  const stepMs = opts.stepMs ?? DEFAULT_STEP_MS;
  if (DAY_MS % stepMs !== 0) throw new HistoryError(`step ${stepMs} ms must divide a day (e.g. 5m or 1h)`);
  const maxJourneys = opts.maxJourneys ?? 8;
  const catalog = deps.catalog ?? storeCatalog(sql);
  await requireKnownService(sql, catalog, service);

  const span = await analysedSpan(sql, windowDays, stepMs, opts.end);
  const traced = await tracedJourneys(sql, service, span, maxJourneys);
  const signals = await loadSignals(
    sql,
    service,
    span,
    traced.chosen,
    deps.querier ?? storeQuerier(sql),
    catalog,
  );
  const journeys = journeysToPropose(service, traced.chosen, signals, maxJourneys);
  const warnings: string[] = await lateDropWarnings(sql, [
    ...new Set([service, ...traced.inScope.map((j) => j.service)]),
  ]);
  if (journeys.length === 0) {
    warnings.push(
      `no journeys, metrics or logs of ${service} in the ${span.historyDays} days before ${new Date(span.range.end).toISOString()}`,
    );
  }

  const { plan, recommendations } = planSlis(service, journeys, traced.extras, signals);
  const planned = opts.sliId === undefined ? plan : onlySli(plan, opts.sliId);
  const { proposals, skipped } = await proposeTargets(planned, {
    service,
    window,
    windowDays,
    quantile: opts.quantile ?? 0.95,
    range: span.range,
    querier: signals.querier,
    examples: traced.examples,
    errorCapsules: errorCapsuleLookup(sql),
    deps,
  });
  nameRumProposals(proposals);
  const final = deps.llm?.settings
    ? await refineWithLlm(journeys, proposals, deps.llm.settings, deps.llm.findSimilarCapsules)
    : proposals;

  return {
    service,
    window,
    range: span.range,
    journeys: traced.inScope,
    proposals: final,
    recommendations,
    skipped,
    warnings,
  };
}

/** One warning per service whose late events were dropped: its history misses them. */
async function lateDropWarnings(sql: Sql, services: string[]): Promise<string[]> {
  return (await listLateEvents(sql, services))
    .filter((l) => l.dropped > 0)
    .map(
      (l) =>
        `${l.dropped} event(s) of ${l.service} arrived more than CORRECTION_HORIZON after their window closed and were dropped` +
        `${l.lastDroppedAt === undefined ? "" : ` (the last at ${new Date(l.lastDroppedAt).toISOString()})`}; ` +
        "its history misses them (slo-scout ingest imports older history into its windows)",
    );
}

// ── the phases of an analysis, in order ───────────────────────────────────────────────────────────

/** Refuses a service with neither stored telemetry nor request metrics, naming the ones there are. */
async function requireKnownService(sql: Sql, catalog: MetricCatalog, service: string): Promise<void> {
  const known = await knownServices(sql);
  if (known.includes(service)) return;
  const metricServices = new Set<string>();
  for (const s of await catalog.requestSeries()) {
    const v = s.labels.service ?? s.labels.service_name ?? s.labels.job;
    if (v) metricServices.add(v.split("/").pop()!);
  }
  if (!metricServices.has(service))
    throw new UnknownServiceError(service, [...new Set([...known, ...metricServices])].sort());
}

/** The analysed time span: at least 28 days (more for a longer window) up to the newest data. */
interface AnalysedSpan {
  /** Aggregates are read over [start, end). */
  start: number;
  historyDays: number;
  /** The history grid: the first step ends one step after `start`, the last at the end. */
  range: HistoryRange;
}

async function analysedSpan(
  sql: Sql,
  windowDays: number,
  stepMs: number,
  endMs: number | undefined,
): Promise<AnalysedSpan> {
  const latest = endMs ?? (await latestDataTime(sql)) ?? Date.now();
  const end = Math.floor(latest / stepMs) * stepMs;
  const historyDays = Math.max(windowDays, 28);
  const start = end - historyDays * DAY_MS;
  return { start, historyDays, range: { start: start + stepMs, end, stepMs } };
}

/** The journeys the traces show for the service: those in scope, the best `maxJourneys`, and their examples. */
async function tracedJourneys(sql: Sql, service: string, span: AnalysedSpan, maxJourneys: number) {
  const { start, range } = span;
  const { routes, edges } = await loadAggregates(sql, service, start, range.end);
  const routeKeys = [...new Set(routes.map((r) => r.journeyKey))];
  const examples: ExampleTrace[] = (
    await Promise.all(
      routeKeys.map((k) =>
        listExampleTraces(sql, { journeyKey: k, since: start, until: range.end, limit: 200 }),
      ),
    )
  ).flat();
  const { journeys: all, extras } = discoverJourneys({ routes, edges, examples });
  const inScope = journeysOf(service, all);
  // The service's own journeys first (its team owns them), then the ones passing through it, best first.
  inScope.sort((a, b) => Number(b.service === service) - Number(a.service === service) || b.score - a.score);
  return { inScope, chosen: inScope.slice(0, maxJourneys), extras, examples };
}

/** What the SLIs are measured from: the querier, the metric inventory, the service's logs and web vitals. */
interface Signals {
  capsules: Awaited<ReturnType<typeof logCounts>>;
  vitals: WebVitalStats[];
  querier: RangeQuerier;
  inventory: MetricInventory;
}

async function loadSignals(
  sql: Sql,
  service: string,
  span: AnalysedSpan,
  chosen: Journey[],
  main: RangeQuerier,
  catalog: MetricCatalog,
): Promise<Signals> {
  const { start, range } = span;
  // SLO-Scout's derived series (log severities, web vitals) next to the team's metrics.
  const capsules = await logCounts(sql, service, start, range.end);
  const vitals: WebVitalStats[] = chosen.some((j) => j.userFacing)
    ? await listWebVitalStats(sql, { since: start, until: range.end })
    : [];
  const derived = new MemorySource();
  addLogSeries(derived, capsules, range);
  addWebVitalSeries(derived, vitals, range);
  const querier = routedQuerier(main, derived);
  const inventory = await loadInventory(catalog, derived);
  return { capsules, vitals, querier, inventory };
}

/** The traced journeys; without traces, journeys from the request metrics' route labels, else the logs. */
function journeysToPropose(
  service: string,
  chosen: Journey[],
  signals: Signals,
  maxJourneys: number,
): Journey[] {
  if (chosen.length) return chosen;
  const fromMetrics = metricJourneys(service, signals.inventory).slice(0, maxJourneys);
  if (fromMetrics.length) return fromMetrics;
  return signals.capsules.length ? [logsJourney(service)] : [];
}

/** An SLI to measure: a ratio candidate (with another source to compare) or a latency histogram. */
type Planned =
  | { journey: Journey; kind: "ratio"; candidate: SliCandidate; other?: SliCandidate }
  | { journey: Journey; kind: "latency"; source: ReturnType<typeof sliCandidates>["latency"][number] };

/**
 * Every SLI the journeys support, planned before any history is read so progress has a total, and the
 * instrumentation advice for the service's own journeys (deduplicated).
 */
function planSlis(
  service: string,
  journeys: Journey[],
  extras: ReturnType<typeof discoverJourneys>["extras"],
  signals: Signals,
): { plan: Planned[]; recommendations: InstrumentationRecommendation[] } {
  const { vitals } = signals;
  const plan: Planned[] = [];
  const recommendations: InstrumentationRecommendation[] = [];
  const hasLogs = signals.capsules.length > 0;
  let logSliPlanned = false;
  const pages = [...new Set(vitals.map((v) => v.page))];
  for (const j of journeys) {
    const c = sliCandidates(j, signals.inventory);
    const [first, second] = c.availability;
    if (first)
      plan.push({ journey: j, kind: "ratio", candidate: first, ...(second ? { other: second } : {}) });
    const lat = c.latency[0];
    if (lat) plan.push({ journey: j, kind: "latency", source: lat });
    if (!first && j.service === service && hasLogs && !logSliPlanned) {
      logSliPlanned = true;
      plan.push({ journey: j, kind: "ratio", candidate: logCandidate(j.key, service) });
    }
    if (j.userFacing) {
      const page = pageOf(j, pages);
      if (page) {
        for (const vital of Object.keys(WEB_VITAL_GOOD) as CoreVital[]) {
          const stat = vitals.find((v) => v.page === page && v.metric === vital);
          const le = stat?.histogram.bounds.find((b) => b === WEB_VITAL_GOOD[vital]);
          if (stat && le !== undefined) {
            plan.push({
              journey: j,
              kind: "ratio",
              candidate: rumCandidate(j.key, stat.service, page, vital, String(le)),
            });
          }
        }
      }
    }
    if (j.service === service) {
      const x = extras.get(j.key);
      recommendations.push(
        ...recommendInstrumentation({
          service,
          ...(j.requests > 0 ? { journey: j.key } : {}),
          hasTraces: j.requests > 0,
          hasRoute: j.route !== undefined || !j.method,
          hasMetrics: c.has.metrics,
          hasHistogram: c.has.histogram,
          hasLogs,
          hasRum: j.userFacing ? pageOf(j, pages) !== undefined : undefined,
          userFacing: j.userFacing,
          protocol:
            j.method && /^[A-Z]+$/.test(j.method)
              ? "http"
              : j.entrySpans.some((s) => s.includes("/"))
                ? "rpc"
                : "http",
          ...(lat ? { histogramBoundsMs: lat.bounds.map((b) => b.ms) } : {}),
          ...(x?.latency?.counts.some((n) => n > 0)
            ? { p95Ms: latencyThreshold(x.latency, 0.95).thresholdMs }
            : {}),
        }),
      );
    }
  }
  const seen = new Set<string>();
  const unique = recommendations.filter((r) => {
    const k = `${r.kind}\u0000${r.journey ?? ""}\u0000${r.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  return { plan, recommendations: unique };
}

/** The planned SLI with id `id`; an UnknownSliError listing the planned ones when there is none. */
function onlySli(plan: Planned[], id: string): Planned[] {
  const idOf = (p: Planned) =>
    p.kind === "latency" ? sliId(p.journey.key, "latency", p.source.source) : p.candidate.sli.id;
  const label = (p: Planned) =>
    `${idOf(p)} (${p.journey.key} ${p.kind === "latency" ? "latency" : sliKindLabel(p.candidate.sli)})`;
  const keep = plan.filter((p) => idOf(p) === id);
  if (keep.length === 0) throw new UnknownSliError(id, plan.map(label));
  return keep;
}

type ErrorCapsuleLookup = (services: string[], since: number, until: number) => Promise<ErrorCapsule[]>;

/** The top error capsules of some services over a span, read once per services and span. */
function errorCapsuleLookup(sql: Sql): ErrorCapsuleLookup {
  const bySpan = new Map<string, Promise<ErrorCapsule[]>>();
  return (services, since, until) => {
    const key = `${services.join(",")}@${since}-${until}`;
    let p = bySpan.get(key);
    if (!p) {
      p = topErrorCapsules(sql, { services, since, until, limit: 5 });
      bySpan.set(key, p);
    }
    return p;
  };
}

interface ProposeContext {
  service: string;
  window: string;
  windowDays: number;
  quantile: number;
  range: HistoryRange;
  querier: RangeQuerier;
  examples: ExampleTrace[];
  errorCapsules: ErrorCapsuleLookup;
  deps: Pick<AnalyzeDeps, "onProgress" | "onHistory">;
}

/**
 * Reads each planned SLI's history and proposes a target for it, in plan order with progress; an SLI
 * whose history is missing or too short is skipped with the reason, not fatal to the analysis.
 */
async function proposeTargets(
  plan: Planned[],
  ctx: ProposeContext,
): Promise<{ proposals: Proposal[]; skipped: SkippedSli[] }> {
  const proposals: Proposal[] = [];
  const skipped: SkippedSli[] = [];
  let done = 0;
  const progress = (label: string) => ctx.deps.onProgress?.({ done, total: plan.length, label });
  progress("reading history");
  for (const item of plan) {
    const kind = item.kind === "latency" ? "latency" : item.candidate.sli.kind;
    const label = `${item.journey.key} ${item.kind === "latency" ? kind : sliKindLabel(item.candidate.sli)}`;
    try {
      proposals.push(await proposeOne(item, label, ctx));
    } catch (err) {
      if (!(err instanceof HistoryError || err instanceof InsufficientHistoryError)) throw err;
      skipped.push({ journey: item.journey.key, kind, reason: err.message });
    }
    done++;
    progress(label);
  }
  return { proposals, skipped };
}

/** One SLI: its history through PromQL, the backtested target, and the evidence behind it. */
async function proposeOne(item: Planned, label: string, ctx: ProposeContext): Promise<Proposal> {
  const { querier, range, service, window } = ctx;
  const j = item.journey;
  let candidate: SliCandidate;
  let history: SliHistory;
  let other: SliHistory | undefined;
  const threshold: string[] = [];
  if (item.kind === "latency") {
    const lh = await readLatencyHistory(querier, item.source, range);
    if (lh.points.length === 0)
      throw new HistoryError(`no samples of ${item.source.bucket} in the analysed range`);
    const t = latencyThreshold(mergeLatencyHistory(lh), ctx.quantile);
    if (t.warning) threshold.push(t.warning);
    candidate = latencyCandidate(item.source, t.thresholdMs);
    history = await readSliHistory(querier, candidate, range, item.source.source);
  } else {
    candidate = item.candidate;
    history = await readSliHistory(querier, candidate, range, candidate.sli.source);
    if (item.other) other = await readSliHistory(querier, item.other, range, item.other.sli.source);
  }
  if (history.points.length === 0) {
    throw new HistoryError(
      `the SLI's queries return no samples between ${new Date(range.start).toISOString()} and ${new Date(range.end).toISOString()}`,
    );
  }
  ctx.deps.onHistory?.(candidate.sli, history);
  const webVital = candidate.sli.kind === "rum";
  const tp = proposeTarget(history, {
    windowDays: ctx.windowDays,
    label: `${label} SLI`,
    ...(webVital ? { ladder: WEB_VITAL_LADDER } : {}),
    ...(other?.points.length ? { otherSource: other } : {}),
  });
  const first = history.points[0]!.t - range.stepMs;
  const last = history.points[history.points.length - 1]!.t;
  const worst = tp.topConsumers[0];
  const services = journeyServices(j);
  const [caps, worstCaps] = await Promise.all([
    ctx.errorCapsules(services, first, last),
    worst ? ctx.errorCapsules(services, worst.start, worst.end) : Promise.resolve([]),
  ]);
  const traces = [
    ...ctx.examples.filter((t) => t.journeyKey === j.key),
    ...ctx.examples.filter((t) => j.exampleTraceIds.includes(t.traceId)),
  ];
  const evidence = buildEvidence({
    candidate,
    journey: j,
    range: { start: first, end: last },
    consumers: tp.topConsumers,
    traces,
    capsules: caps,
    consumerCapsules: worstCaps,
  });
  const { choice, backtest: bt } = tp;
  return {
    id: proposalId(service, candidate.sli.id, window),
    service,
    journey: j.key,
    name: `${j.key} ${KIND_NAME[candidate.sli.kind] ?? candidate.sli.kind}${candidate.sli.kind === "rum" ? ` (${candidate.sli.id.slice(-4)})` : ""}`,
    sli: candidate.sli,
    target: {
      recommended: choice.recommended,
      ...(choice.aspirational !== undefined ? { aspirational: choice.aspirational } : {}),
      ...(choice.safe !== undefined ? { safe: choice.safe } : {}),
      errorBudget: choice.errorBudget,
    },
    window,
    backtest: {
      attainment: bt.attainment,
      days: bt.days,
      ladder: bt.ladder.map((r) => ({
        target: r.target,
        worstWindowBudgetUsed: r.worstWindowBudgetUsed,
        daysInBreach: r.daysInBreach,
        pages: r.pages,
        tickets: r.tickets,
        worstWindowPages: r.worstWindowPages,
        allowedBadPerWindow: r.allowedBadPerWindow,
      })),
    },
    confidence: tp.confidence,
    evidence,
    warnings: [...threshold, ...tp.warnings],
    rationale: [...(webVital ? [P75_GOOD] : []), ...choice.reasons].join("; "),
    status: "proposed",
  };
}

const P75_GOOD =
  "Core Web Vitals count a page as good when the 75th percentile of its loads is good, so 75% good is the " +
  "baseline and the ladder starts there";

/** RUM names carry the vital, not a hash fragment. */
function nameRumProposals(proposals: Proposal[]): void {
  for (const p of proposals) {
    if (p.sli.kind === "rum" && p.sli.description) {
      const vital = /with (\w+) at or under/.exec(p.sli.description)?.[1];
      if (vital) p.name = `${p.journey} ${vital}`;
    }
  }
}

/** The proposals reworded by the LLM, journey by journey (a journey's proposals are refined together). */
async function refineWithLlm(
  journeys: Journey[],
  proposals: Proposal[],
  settings: LlmSettings,
  findSimilarCapsules: FindSimilarCapsules | undefined,
): Promise<Proposal[]> {
  const byJourney = new Map<string, Proposal[]>();
  for (const p of proposals) byJourney.set(p.journey, [...(byJourney.get(p.journey) ?? []), p]);
  const refined: Proposal[] = [];
  for (const j of journeys) {
    const mine = byJourney.get(j.key);
    if (!mine?.length) continue;
    const r = await refineProposals(j, mine, {
      settings,
      ...(findSimilarCapsules ? { findSimilarCapsules } : {}),
    });
    refined.push(...r.proposals);
  }
  return refined;
}

/** True when nothing could be proposed only because the history is too short (the CLI refuses then). */
export function refusedForShortHistory(r: AnalysisResult): string | undefined {
  if (r.proposals.length > 0 || r.skipped.length === 0) return undefined;
  const short = r.skipped.find((s) => /not enough history/.test(s.reason));
  return short?.reason;
}
