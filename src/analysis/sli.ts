import { createHash } from "node:crypto";
import type { Journey } from "../core/journey.js";
import type { Sli, SliKind } from "../core/slo.js";

/**
 * SLI candidates for a journey as PromQL ratio SLIs over the series the team actually has. The metric
 * inventory (names and label sets) is discovered, never assumed: the app's own HTTP counters and
 * histograms under their common names and label spellings first, span metrics (the collector's
 * spanmetrics connector) otherwise, and SLO-Scout's own series derived from log capsules and web vitals
 * where a journey has no request metrics. Availability counts 5xx as bad and everything else (4xx
 * included) as good. Pure: an inventory in, candidates out.
 */

export type Labels = Record<string, string>;

/** A metric name with its series' label sets. */
export interface MetricInventory {
  series(name: string): readonly Labels[];
  names(): readonly string[];
}

export function inventoryOf(series: readonly { name: string; labels: Labels }[]): MetricInventory {
  const byName = new Map<string, Labels[]>();
  for (const s of series) {
    const { __name__: _, ...labels } = s.labels;
    const list = byName.get(s.name);
    if (list) list.push(labels);
    else byName.set(s.name, [labels]);
  }
  return { series: (name) => byName.get(name) ?? [], names: () => [...byName.keys()].sort() };
}

export interface Matcher {
  name: string;
  op: "=" | "!=" | "=~" | "!~";
  value: string;
}

/** `sum(increase(<metric>{<matchers>}[<window>]))`: the events a ratio SLI counts. */
export interface CounterQuery {
  metric: string;
  matchers: Matcher[];
}

/**
 * The range of the stored SLI PromQL: Sloth's template variable, so a proposal's queries go into an SLO
 * spec as they are and each generator puts in its own windows (`renderWindow`). History is read from the
 * structured queries with the step as the range, never from these strings.
 */
export const SLI_WINDOW = "{{.window}}";

const escapeValue = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

export function selector(q: CounterQuery): string {
  const m = q.matchers.map((x) => `${x.name}${x.op}"${escapeValue(x.value)}"`).join(",");
  return `${q.metric}{${m}}`;
}

export function increaseQuery(q: CounterQuery, window = SLI_WINDOW): string {
  return `sum(increase(${selector(q)}[${window}]))`;
}

const rateQuery = (q: CounterQuery, window = SLI_WINDOW) => `sum(rate(${selector(q)}[${window}]))`;

/** A candidate with the structured queries behind its PromQL strings (history is read from the same selectors). */
export interface SliCandidate {
  sli: Sli;
  good: CounterQuery;
  total: CounterQuery;
  /** Selector of the bad events (for evidence), when they can be selected directly. */
  bad?: CounterQuery;
}

/** A latency histogram a threshold can be put on, before the threshold is known. */
export interface LatencySource {
  journey: string;
  source: Sli["source"];
  /** The `_bucket` series name. */
  bucket: string;
  /** The `_count` series name when it exists (else the `+Inf` bucket counts the total). */
  count?: string;
  matchers: Matcher[];
  /** Finite bucket bounds in ms, ascending, with the exact `le` label value each has. */
  bounds: { ms: number; le: string }[];
  /** `le` value of the +Inf bucket. */
  infLe: string;
}

export interface Candidates {
  availability: SliCandidate[];
  latency: LatencySource[];
  /** What the journey lacks, for instrumentation recommendations. */
  has: { metrics: boolean; histogram: boolean; spanMetrics: boolean };
}

/** Stable id: the same journey and kind (and source) always give the same id. */
export function sliId(journey: string, kind: SliKind, source: string): string {
  return `sli-${createHash("sha256").update(`${journey}\u0000${kind}\u0000${source}`).digest("hex").slice(0, 12)}`;
}

// ── metric families ────────────────────────────────────────────────────────────────────────────────

const SERVICE_LABELS = ["service", "service_name", "job", "app", "application"];
const ROUTE_LABELS = ["route", "http_route", "handler", "endpoint", "path", "uri"];
const METHOD_LABELS = ["method", "http_method", "http_request_method"];
const STATUS_LABELS = ["status", "code", "status_code", "http_status_code", "http_response_status_code"];
const SPAN_NAME_LABELS = ["span_name", "operation"];

/** Request counters of HTTP servers under the names common client libraries and SDKs use. */
const COUNTER = /^http_(server_)?requests?(_count)?_total$|^http_server_requests_seconds_count$/;
/** HTTP server duration histograms (`_bucket`), seconds or milliseconds. */
const HISTOGRAM = /^http_(server_)?(request_)?duration(_seconds|_milliseconds|_ms)?_bucket$/;
/** The spanmetrics connector's names (Tempo/Grafana Agent prefixes included). */
const SPAN_CALLS = /^(traces_spanmetrics_calls|traces_span_metrics_calls|calls)(_total)?$/;
const SPAN_DURATION =
  /^(traces_spanmetrics_(latency|duration)|traces_span_metrics_duration|duration|latency)(_seconds|_milliseconds|_ms)?_bucket$/;

const unitMs = (name: string) => (/seconds/.test(name) ? 1000 : 1);

interface Family {
  metric: string;
  source: Sli["source"];
  kind: "counter" | "histogram";
}

function families(inv: MetricInventory): Family[] {
  const out: Family[] = [];
  for (const name of inv.names()) {
    if (COUNTER.test(name)) out.push({ metric: name, source: "metrics", kind: "counter" });
    else if (HISTOGRAM.test(name)) out.push({ metric: name, source: "metrics", kind: "histogram" });
    else if (SPAN_CALLS.test(name)) out.push({ metric: name, source: "span-metrics", kind: "counter" });
    else if (SPAN_DURATION.test(name)) out.push({ metric: name, source: "span-metrics", kind: "histogram" });
  }
  // The app's own metrics before span metrics, counters before histograms.
  const rank = (f: Family) => (f.source === "metrics" ? 0 : 2) + (f.kind === "counter" ? 0 : 1);
  return out.sort((a, b) => rank(a) - rank(b) || a.metric.localeCompare(b.metric));
}

const firstLabel = (labels: Labels, names: readonly string[]) => names.find((n) => labels[n] !== undefined);

function serviceMatches(value: string | undefined, service: string): boolean {
  if (value === undefined) return false;
  return value === service || value.endsWith(`/${service}`);
}

/**
 * The label matchers that select one journey's entry operation in a family, from a series that has it;
 * undefined when no series of the family belongs to the journey.
 */
function journeyMatchers(
  series: readonly Labels[],
  j: Journey,
  source: Sli["source"],
): Matcher[] | undefined {
  for (const labels of series) {
    const svcLabel = firstLabel(labels, SERVICE_LABELS);
    if (!svcLabel || !serviceMatches(labels[svcLabel], j.service)) continue;
    const matchers: Matcher[] = [{ name: svcLabel, op: "=", value: labels[svcLabel]! }];
    const routeLabel = firstLabel(labels, ROUTE_LABELS);
    const spanLabel = firstLabel(labels, SPAN_NAME_LABELS);
    if (routeLabel) {
      if (!j.route || labels[routeLabel] !== j.route) continue;
      matchers.push({ name: routeLabel, op: "=", value: j.route });
    } else if (spanLabel) {
      const op = j.method && j.route ? `${j.method} ${j.route}` : j.entrySpans[0];
      if (!op || labels[spanLabel] !== op) continue;
      matchers.push({ name: spanLabel, op: "=", value: op });
    } else continue;
    const methodLabel = firstLabel(labels, METHOD_LABELS);
    if (methodLabel && j.method) {
      if (labels[methodLabel]!.toUpperCase() !== j.method.toUpperCase()) continue;
      matchers.push({ name: methodLabel, op: "=", value: labels[methodLabel]! });
    }
    if (source === "span-metrics" && labels.span_kind !== undefined) {
      if (!/server|consumer/i.test(labels.span_kind)) continue;
      matchers.push({ name: "span_kind", op: "=", value: labels.span_kind });
    }
    return matchers;
  }
  return undefined;
}

function selected(series: readonly Labels[], matchers: Matcher[]): Labels[] {
  return series.filter((l) => matchers.every((m) => (m.op === "=" ? l[m.name] === m.value : true)));
}

/** How to tell a server error in a family: an HTTP status label (5xx) or the span status. */
function errorMatcher(series: readonly Labels[]): { bad: Matcher; good: Matcher } | undefined {
  const sample = series[0];
  if (!sample) return undefined;
  const httpStatus = STATUS_LABELS.filter(
    (n) => n !== "status_code" || !/^STATUS_CODE_/.test(sample[n] ?? ""),
  );
  const label = firstLabel(sample, httpStatus);
  if (label) {
    return {
      bad: { name: label, op: "=~", value: "5.." },
      good: { name: label, op: "!~", value: "5.." },
    };
  }
  if (sample.status_code !== undefined) {
    return {
      bad: { name: "status_code", op: "=", value: "STATUS_CODE_ERROR" },
      good: { name: "status_code", op: "!=", value: "STATUS_CODE_ERROR" },
    };
  }
  return undefined;
}

function availabilityFrom(
  j: Journey,
  metric: string,
  source: Sli["source"],
  matchers: Matcher[],
  series: readonly Labels[],
): SliCandidate | undefined {
  const mine = selected(series, matchers);
  const err = errorMatcher(mine);
  if (!err) return undefined;
  const total: CounterQuery = { metric, matchers };
  const good: CounterQuery = { metric, matchers: [...matchers, err.good] };
  const bad: CounterQuery = { metric, matchers: [...matchers, err.bad] };
  return {
    sli: {
      id: sliId(j.key, "availability", source),
      journey: j.key,
      kind: "availability",
      source,
      promql: {
        good: increaseQuery(good),
        total: increaseQuery(total),
        errorRatio: `${rateQuery(bad)} / ${rateQuery(total)}`,
      },
      description:
        `Share of ${j.key} requests answered without a server error (5xx); 4xx are the client's and count as good. ` +
        `From ${metric}.`,
    },
    good,
    total,
    bad,
  };
}

function latencyFrom(
  j: Journey,
  bucket: string,
  source: Sli["source"],
  matchers: Matcher[],
  series: readonly Labels[],
  inv: MetricInventory,
): LatencySource | undefined {
  const mine = selected(series, matchers);
  const les = new Map<string, number>();
  let infLe: string | undefined;
  for (const l of mine) {
    const le = l.le;
    if (le === undefined) continue;
    const v = Number(le);
    if (le === "+Inf" || v === Number.POSITIVE_INFINITY) infLe = le;
    else if (Number.isFinite(v)) les.set(le, v * unitMs(bucket));
  }
  if (les.size === 0 || infLe === undefined) return undefined;
  // Equal bounds spelled differently (0.5 vs 0.50) would double count: keep one spelling per value.
  const byMs = new Map<number, string>();
  for (const [le, ms] of les) if (!byMs.has(ms)) byMs.set(ms, le);
  const base = bucket.replace(/_bucket$/, "");
  const countName = `${base}_count`;
  const hasCount = selected(inv.series(countName), matchers).length > 0;
  return {
    journey: j.key,
    source,
    bucket,
    ...(hasCount ? { count: countName } : {}),
    matchers,
    bounds: [...byMs.entries()].sort((a, b) => a[0] - b[0]).map(([ms, le]) => ({ ms, le })),
    infLe,
  };
}

/** Availability candidates and latency histograms for one journey, the team's own metrics first. */
export function sliCandidates(j: Journey, inv: MetricInventory): Candidates {
  const availability: SliCandidate[] = [];
  const latency: LatencySource[] = [];
  const has = { metrics: false, histogram: false, spanMetrics: false };
  const fams = families(inv);
  for (const f of fams) {
    const series = inv.series(f.metric);
    const matchers = journeyMatchers(series, j, f.source);
    if (!matchers) continue;
    if (f.source === "metrics") has.metrics = true;
    else has.spanMetrics = true;
    if (f.kind === "counter") {
      if (availability.some((a) => a.sli.source === f.source)) continue;
      const a = availabilityFrom(j, f.metric, f.source, matchers, series);
      if (a) availability.push(a);
    } else {
      if (latency.some((l) => l.source === f.source)) continue;
      const l = latencyFrom(j, f.metric, f.source, matchers, series, inv);
      if (!l) continue;
      has.histogram = true;
      latency.push(l);
      // A histogram's _count with a status label serves availability when no counter does.
      if (l.count && !availability.some((a) => a.sli.source === f.source)) {
        const countSeries = inv.series(l.count);
        const a = availabilityFrom(j, l.count, f.source, matchers, countSeries);
        if (a) availability.push(a);
      }
    }
  }
  return { availability, latency, has };
}

/** The latency SLI once the threshold (a bucket bound) is chosen: good = requests at or under it. */
export function latencyCandidate(l: LatencySource, thresholdMs: number): SliCandidate {
  const bound = l.bounds.find((b) => b.ms === thresholdMs);
  if (!bound) {
    throw new Error(
      `latency threshold ${thresholdMs} ms is not a bucket bound of ${l.bucket} (${l.bounds.map((b) => b.ms).join(", ")} ms)`,
    );
  }
  const good: CounterQuery = {
    metric: l.bucket,
    matchers: [...l.matchers, { name: "le", op: "=", value: bound.le }],
  };
  const total: CounterQuery = l.count
    ? { metric: l.count, matchers: l.matchers }
    : { metric: l.bucket, matchers: [...l.matchers, { name: "le", op: "=", value: l.infLe }] };
  return {
    sli: {
      id: sliId(l.journey, "latency", l.source),
      journey: l.journey,
      kind: "latency",
      source: l.source,
      promql: {
        good: increaseQuery(good),
        total: increaseQuery(total),
        errorRatio: `1 - (${rateQuery(good)} / ${rateQuery(total)})`,
      },
      threshold: { value: thresholdMs, unit: "ms" },
      description: `Share of ${l.journey} requests served in ${thresholdMs} ms or less. From ${l.bucket}.`,
    },
    good,
    total,
  };
}

// ── SLO-Scout's own series: log capsules and web vitals ───────────────────────────────────────────

/**
 * Counters SLO-Scout derives from what the stream stage stored, so journeys without request metrics
 * still get a PromQL SLI: log lines by service, fingerprint and severity (from capsules) and web-vital
 * histograms by service, page and vital (from RUM). Analysis evaluates them over the store; `slo-scout
 * export-derived` writes the same series to a Prometheus, where the generated rules read them (see
 * `derived-series.ts`). These names are a contract with the users' rule files: keep them stable.
 */
export const LOG_EVENTS = "slo_scout_log_events_total";
export const WEB_VITAL_BUCKET = "slo_scout_web_vital_bucket";
export const WEB_VITAL_COUNT = "slo_scout_web_vital_count";
export const WEB_VITAL_SUM = "slo_scout_web_vital_sum";

/** Log-based availability: share of a service's log lines that are not error or fatal. */
export function logCandidate(journey: string, service: string): SliCandidate {
  const svc: Matcher = { name: "service", op: "=", value: service };
  const total: CounterQuery = { metric: LOG_EVENTS, matchers: [svc] };
  const good: CounterQuery = {
    metric: LOG_EVENTS,
    matchers: [svc, { name: "severity", op: "!~", value: "error|fatal" }],
  };
  const bad: CounterQuery = {
    metric: LOG_EVENTS,
    matchers: [svc, { name: "severity", op: "=~", value: "error|fatal" }],
  };
  return {
    sli: {
      id: sliId(journey, "log", "logs"),
      journey,
      kind: "log",
      source: "logs",
      promql: {
        good: increaseQuery(good),
        total: increaseQuery(total),
        errorRatio: `${rateQuery(bad)} / ${rateQuery(total)}`,
      },
      description:
        `Share of ${service}'s log lines that are not errors (from log capsule severities; ${LOG_EVENTS} is ` +
        `derived by SLO-Scout: slo-scout export-derived writes it to Prometheus). A stand-in until the service exports request metrics.`,
    },
    good,
    total,
    bad,
  };
}

/** Good thresholds of Google's Core Web Vitals (75th percentile guidance), in each vital's unit. */
export const WEB_VITAL_GOOD = { LCP: 2500, INP: 200, CLS: 0.1 } as const;
export type CoreVital = keyof typeof WEB_VITAL_GOOD;

/** The web vital a RUM SLI measures (the `vital` matcher of its query), undefined for other SLIs. */
export function vitalOf(sli: Pick<Sli, "kind" | "promql">): string | undefined {
  return sli.kind === "rum" ? /\bvital="(\w+)"/.exec(sli.promql.good ?? "")?.[1] : undefined;
}

/** What an SLI measures, in a word: its kind, or for a browser SLI the vital (`LCP`, not `rum`). */
export function sliKindLabel(sli: Pick<Sli, "kind" | "promql">): string {
  return vitalOf(sli) ?? sli.kind;
}

/** RUM SLI: share of page views whose vital is within the "good" threshold. */
export function rumCandidate(
  journey: string,
  service: string,
  page: string,
  vital: CoreVital,
  le: string,
): SliCandidate {
  const base: Matcher[] = [
    { name: "service", op: "=", value: service },
    { name: "page", op: "=", value: page },
    { name: "vital", op: "=", value: vital },
  ];
  const good: CounterQuery = {
    metric: WEB_VITAL_BUCKET,
    matchers: [...base, { name: "le", op: "=", value: le }],
  };
  const total: CounterQuery = {
    metric: WEB_VITAL_BUCKET,
    matchers: [...base, { name: "le", op: "=", value: "+Inf" }],
  };
  const unit = vital === "CLS" ? "" : " ms";
  return {
    sli: {
      id: sliId(`${journey}\u0000${page}`, "rum", vital),
      journey,
      kind: "rum",
      source: "rum",
      promql: {
        good: increaseQuery(good),
        total: increaseQuery(total),
        errorRatio: `1 - (${rateQuery(good)} / ${rateQuery(total)})`,
      },
      threshold: { value: WEB_VITAL_GOOD[vital], unit: vital === "CLS" ? "score" : "ms" },
      description: `Share of ${page} page views with ${vital} at or under ${WEB_VITAL_GOOD[vital]}${unit} (Core Web Vitals "good").`,
    },
    good,
    total,
  };
}

/**
 * Journeys read from request metrics alone (service + method + route label sets), for a service that
 * sends metrics but no traces: its SLIs can still be measured, only its call graph is unknown.
 */
export function metricJourneys(service: string, inv: MetricInventory): Journey[] {
  const seen = new Map<string, Journey>();
  for (const f of families(inv)) {
    for (const labels of inv.series(f.metric)) {
      const svc = firstLabel(labels, SERVICE_LABELS);
      if (!svc || !serviceMatches(labels[svc], service)) continue;
      const routeLabel = firstLabel(labels, ROUTE_LABELS);
      const methodLabel = firstLabel(labels, METHOD_LABELS);
      const route = routeLabel ? labels[routeLabel] : undefined;
      if (!route) continue;
      const method = methodLabel ? labels[methodLabel]!.toUpperCase() : undefined;
      const op = method ? `${method} ${route}` : route;
      const key = `${service} ${op}`;
      if (seen.has(key)) continue;
      seen.set(key, {
        key,
        service,
        ...(method ? { method } : {}),
        route,
        entrySpans: [op],
        downstream: [],
        signature: "",
        trafficShare: 0,
        requests: 0,
        errorShare: 0,
        depth: 0,
        userFacing: false,
        score: 0,
        exampleTraceIds: [],
      });
    }
  }
  return [...seen.values()].sort((a, b) => a.key.localeCompare(b.key));
}
