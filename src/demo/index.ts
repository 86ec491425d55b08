/**
 * Demo telemetry: a deterministic, seeded small shop that emits every signal SLO-Scout reads, with the
 * ground truth it was told to produce.
 *
 *   const shop = createDemoShop({ seed: 42, days: 28, end: Date.UTC(2026, 10, 23), stepSeconds: 300 });
 *   for (const ev of shop.all()) bus.publish("raw-telemetry", ev);   // TelemetryEvent, time-ordered
 *   shop.truth.journeys["checkout POST /checkout"].availability      // exact good/total of the counters
 *
 * Options (all optional; DEMO_DEFAULTS): seed 42, days 28, end DEMO_DEFAULT_END (fixed, so output does not
 * depend on the day it runs; pass alignedNow() for "up to now"; must be on a whole hour), stepSeconds 300
 * (must divide an hour), tracesPerJourneyPerHour 6, logsPerServicePerHour 20, rumPageLoadsPerPagePerHour 10,
 * metricChunkSeconds 3600. Same options → byte-identical events and truth.
 *
 * Topology (shop.topology): web-browser → frontend → api-gateway → checkout → payment (→ psp) / inventory /
 * cart (gRPC), all using postgresql (db client spans); checkout publishes `order-events` on kafka, consumed by
 * fulfillment. Mobile apps call api-gateway directly. notification emits logs only.
 *
 * Signals (each a lazy, time-ordered Iterable<TelemetryEvent>; nothing is built for the whole period; only
 * per-step integer counts are planned up front):
 *   metrics()  `kind:"metric"`, one event per series per chunk (default 1 h of samples at `stepSeconds`):
 *              http_server_requests_total{service,route,method,status} (counter; statuses 200/201, 400/404, 500, 503)
 *              http_server_request_duration_seconds_{bucket{le},sum,count}{service,route,method} (histogram;
 *              le = OTel's advised http.server.request.duration bounds 0.005…10 s and +Inf).
 *              For the HTTP operations of frontend, api-gateway, checkout, payment and inventory. Counters are 0
 *              at `start` (a sample at `start`), cumulative over (start, end], and reset once when inventory
 *              restarts (truth.counterResets): read them with reset-aware increase().
 *   traces()   `kind:"span"`, head-sampled per entry journey (tracesPerJourneyPerHour on average, the same
 *              probability for failed and successful requests: truth.traceSampling), OTel semantic conventions
 *              (http.*, url.*, server.*, client.address, user_agent.original, rpc.*, db.*, messaging.*);
 *              exception events on failures; ~4% of browser traces miss their browser root and ~2% the
 *              api-gateway spans (partial traces); inventory's spans carry no http.route for
 *              GET /products/{id} (span name "GET", raw url.path only).
 *   logs()     `kind:"log"`, template lines per service (plain, logfmt, JSON) with planted PII (truth.pii,
 *              isPlantedPii, findPlantedPii), one error line per 5xx (with trace/span ids when that request was
 *              sampled), slow-query warnings, and a daily prompt-injection line (truth.promptInjection).
 *   rum()      `kind:"rum"`, Faro-like `measurement` "web-vitals" {lcp,fcp,ttfb,inp (ms), cls} and `exception`s.
 *   traces/logs/rum({ from, to }) yield only the whole hours overlapping the range.
 *   all()      the four merged by time.
 *   counts()   events per signal: metrics exact, the sampled signals as expected values.
 *
 * Truth (shop.truth.journeys[key], key = "service METHOD route", gRPC "service rpc.Service/Method"):
 * targetAvailability (told) and availability = good/total with good = not 5xx (4xx are good), exact for the
 * emitted counters; totals by status; latency p50/p95/p99 as histogram_quantile computes them over the period,
 * the p95 snapped to a bucket, and the share of requests under every `le`; errors per incident and the top
 * budget consumer; the worst day.
 *
 * Incidents (truth.incidents): a 2.5 h payment-provider outage (payment 503s spending 60% of payment's budget,
 * propagating to checkout, api-gateway and frontend: checkout's top budget consumer), and up to 30 h (15% of
 * the period at most) of slow inventory POST /stock/reserve (latency, felt by checkout and above).
 */

import type { TelemetryEvent } from "../core/telemetry.js";
import { DemoContext, type DemoOptions } from "./context.js";
import { LOG_VOLUME_SUM, logsForHour, PROMPT_INJECTION } from "./logs.js";
import { metricEvents, seriesDefs } from "./metrics.js";
import { buildPiiPool, findPlanted, type PlantedPii } from "./pii.js";
import { buildPlan, CATS } from "./plan.js";
import { rumForHour } from "./rum.js";
import { HOUR_MS, makeTimeline, trafficShape } from "./timeline.js";
import {
  buildTopology,
  DURATION_BUCKETS,
  ENTRIES,
  INCIDENTS,
  OPS,
  type OpDef,
  opByKey,
  type Topology,
  WEB_PAGES,
} from "./topology.js";
import { tracesForHour } from "./traces.js";
import { computeJourneyTruth, type DemoTruth } from "./truth.js";

export type { DemoOptions } from "./context.js";
export { PROMPT_INJECTION } from "./logs.js";
export type { PiiKind, PlantedPii } from "./pii.js";
export { luhnValid } from "./pii.js";
export type { Topology, TopologyEdge } from "./topology.js";
export { DURATION_BUCKETS } from "./topology.js";
export type { DemoTruth, IncidentTruth, JourneyTruth } from "./truth.js";

/** 2026-11-23T00:00:00Z: a fixed default so the same seed gives the same bytes on any day. */
export const DEMO_DEFAULT_END = Date.UTC(2026, 10, 23);

export const DEMO_DEFAULTS: DemoOptions = {
  seed: 42,
  days: 28,
  end: DEMO_DEFAULT_END,
  stepSeconds: 300,
  tracesPerJourneyPerHour: 6,
  logsPerServicePerHour: 20,
  rumPageLoadsPerPagePerHour: 10,
  metricChunkSeconds: 3600,
};

export interface DemoCounts {
  /** Exact. */
  metricSeries: number;
  metricEvents: number;
  metricSamples: number;
  /** Expected values (the sampled signals are drawn per hour). */
  traces: number;
  spans: number;
  logs: number;
  rum: number;
}

export interface TimeRange {
  from?: number;
  to?: number;
}

export interface DemoShop {
  options: Readonly<DemoOptions>;
  topology: Topology;
  truth: DemoTruth;
  metrics(): Iterable<TelemetryEvent>;
  /** With a range: only the whole hours overlapping it (same events as the full stream has for them). */
  traces(range?: TimeRange): Iterable<TelemetryEvent>;
  logs(range?: TimeRange): Iterable<TelemetryEvent>;
  rum(range?: TimeRange): Iterable<TelemetryEvent>;
  /** Every signal, merged in time order. */
  all(): Iterable<TelemetryEvent>;
  counts(): DemoCounts;
  /** Whether `s` is (exactly) one of the planted PII strings. */
  isPlantedPii(s: string): boolean;
  /** The planted PII strings occurring anywhere in `text`. */
  findPlantedPii(text: string): PlantedPii[];
}

/** Current time floored to the hour: an `end` for "the last N days up to now". */
export function alignedNow(now: number = Date.now()): number {
  return Math.floor(now / HOUR_MS) * HOUR_MS;
}

function checkOptions(o: DemoOptions): void {
  for (const k of [
    "tracesPerJourneyPerHour",
    "logsPerServicePerHour",
    "rumPageLoadsPerPagePerHour",
  ] as const) {
    if (!Number.isFinite(o[k]) || o[k] < 0)
      throw new Error(`demo: ${k} must be a number >= 0 (e.g. 6), got ${o[k]}`);
  }
  if (!Number.isInteger(o.seed)) throw new Error(`demo: seed must be an integer (e.g. 42), got ${o.seed}`);
  if (!Number.isInteger(o.metricChunkSeconds) || o.metricChunkSeconds < o.stepSeconds) {
    throw new Error(
      `demo: metricChunkSeconds must be an integer >= stepSeconds (e.g. 3600), got ${o.metricChunkSeconds}`,
    );
  }
  if (INCIDENTS.filter((i) => i.kind === "availability").length > 1) {
    throw new Error("demo: the error categories support one availability incident");
  }
}

/** Yields each hour's events sorted, holding back those that spill into a later hour. */
function* hourly(
  [first, last]: [number, number],
  hourStart: (h: number) => number,
  gen: (h: number) => TelemetryEvent[],
) {
  let pending: TelemetryEvent[] = [];
  for (let h = first; h < last; h++) {
    const events = pending.length > 0 ? pending.concat(gen(h)) : gen(h);
    events.sort((a, b) => a.time - b.time);
    const cut = hourStart(h + 1);
    let k = 0;
    while (k < events.length && events[k]!.time < cut) k++;
    for (let x = 0; x < k; x++) yield events[x]!;
    pending = events.slice(k);
  }
  yield* pending;
}

/** k-way merge of time-ordered iterables (ties keep the order of `sources`). */
function* mergeByTime(sources: Iterable<TelemetryEvent>[]): Generator<TelemetryEvent> {
  const its = sources.map((s) => s[Symbol.iterator]());
  const heads = its.map((it) => it.next());
  for (;;) {
    let best = -1;
    for (let i = 0; i < heads.length; i++) {
      const h = heads[i]!;
      if (!h.done && (best < 0 || h.value.time < (heads[best]!.value as TelemetryEvent).time)) best = i;
    }
    if (best < 0) return;
    yield heads[best]!.value as TelemetryEvent;
    heads[best] = its[best]!.next();
  }
}

const iterable = (make: () => Iterator<TelemetryEvent>): Iterable<TelemetryEvent> => ({
  [Symbol.iterator]: make,
});

export function createDemoShop(options: Partial<DemoOptions> = {}): DemoShop {
  const opts: DemoOptions = { ...DEMO_DEFAULTS, ...options };
  checkOptions(opts);
  const tl = makeTimeline(opts.end, opts.days, opts.stepSeconds);
  const plan = buildPlan(opts.seed, tl);
  const pool = buildPiiPool(opts.seed);
  const ctx = new DemoContext(plan, pool, opts);
  const topology = buildTopology();
  const piiValues = new Set(pool.values.map((p) => p.value));

  const truth: DemoTruth = {
    seed: opts.seed,
    start: tl.start,
    end: tl.end,
    days: tl.days,
    stepSeconds: opts.stepSeconds,
    bucketsSeconds: DURATION_BUCKETS,
    journeys: computeJourneyTruth(plan, (i) => ctx.latency(i)),
    incidents: plan.incidents.map((inc) => {
      let errors = 0;
      if (inc.def.kind === "availability") {
        const own = plan.ops[inc.opIndex]!.own[CATS - 1]!;
        for (let i = 0; i < own.length; i++) errors += own[i]!;
      }
      return {
        id: inc.def.id,
        kind: inc.def.kind,
        service: OPS[inc.opIndex]!.service,
        journey: inc.def.op,
        description: inc.def.description,
        start: inc.start,
        end: inc.end,
        ...(inc.def.kind === "availability" ? { errors } : { slowdown: inc.def.slowdown }),
      };
    }),
    counterResets: [
      {
        service: plan.counterReset.service,
        time: plan.counterReset.time,
        reason: `restart after deploying ${plan.counterReset.service} ${plan.counterReset.newVersion}`,
      },
    ],
    edges: topology.edges,
    traceSampling: Object.fromEntries(plan.entries.map((e, j) => [e.def.id, ctx.traceRatio[j]!])),
    pii: pool.values,
    piiLocations: [
      "log.body",
      "log.attributes[client.address, enduser.id]",
      "span.attributes[client.address] (frontend, and api-gateway for mobile requests)",
      "rum.message (exception)",
    ],
    promptInjection: { service: "checkout", text: PROMPT_INJECTION },
  };

  /** The hours overlapping a range (all hours without one). */
  const hoursOf = (range?: TimeRange): [number, number] => {
    if (!range) return [0, tl.hours];
    const from = range.from ?? tl.start;
    const to = range.to ?? tl.end;
    if (!(from < to)) throw new Error(`demo: range.from must be before range.to, got ${from} and ${to}`);
    const first = Math.max(0, Math.floor((from - tl.start) / HOUR_MS));
    const last = Math.min(tl.hours, Math.ceil((to - tl.start) / HOUR_MS));
    return [first, Math.max(first, last)];
  };
  const start = (h: number) => ctx.hourStart(h);
  const traces = (r?: TimeRange) => hourly(hoursOf(r), start, (h) => tracesForHour(ctx, h).spans);
  const logs = (r?: TimeRange) =>
    hourly(hoursOf(r), start, (h) => logsForHour(ctx, h, tracesForHour(ctx, h)));
  const rum = (r?: TimeRange) => hourly(hoursOf(r), start, (h) => rumForHour(ctx, h));
  const metrics = () => metricEvents(plan, opts.metricChunkSeconds, (i) => ctx.latency(i));

  return {
    options: opts,
    topology,
    truth,
    metrics: () => iterable(metrics),
    traces: (range) => iterable(() => traces(range)),
    logs: (range) => iterable(() => logs(range)),
    rum: (range) => iterable(() => rum(range)),
    all: () =>
      iterable(() =>
        mergeByTime([
          iterable(metrics),
          iterable(() =>
            hourly(hoursOf(), start, (h) => {
              const t = tracesForHour(ctx, h);
              return [...t.spans, ...logsForHour(ctx, h, t), ...rumForHour(ctx, h)];
            }),
          ),
        ]),
      ),
    counts: () => estimateCounts(ctx),
    isPlantedPii: (s) => piiValues.has(s),
    findPlantedPii: (text) => findPlanted(pool, text),
  };
}

/** Spans in one successful request to op (its server span and everything under it). */
function spansUnder(op: OpDef): number {
  let n = 1;
  for (const step of op.steps) {
    if ("call" in step) n += 1 + spansUnder(opByKey(step.call));
    else if ("publish" in step) n += 1 + spansUnder(opByKey(step.consumer));
    else n += 1;
  }
  return n;
}

function estimateCounts(ctx: DemoContext): DemoCounts {
  const { plan, options } = ctx;
  const tl = plan.timeline;
  const series = seriesDefs(plan).length;
  const chunkSteps = Math.max(1, Math.round((options.metricChunkSeconds * 1000) / tl.stepMs));
  let traces = 0;
  let spans = 0;
  plan.entries.forEach((e, j) => {
    let total = 0;
    for (let i = 0; i < e.n.length; i++) total += e.n[i]!;
    const t = total * ctx.traceRatio[j]!;
    traces += t;
    spans += t * (spansUnder(opByKey(e.def.op)) + (ENTRIES[j]!.client === "browser" ? 1 : 0));
  });
  let loadHours = 0;
  for (let h = 0; h < tl.hours; h++) loadHours += trafficShape(ctx.hourStart(h) + HOUR_MS / 2);
  let errorLines = 0;
  for (const p of plan.ops)
    for (let c = 0; c < CATS; c++) for (let i = 0; i < tl.steps; i++) errorLines += p.err[c]![i]!;
  const volume = options.logsPerServicePerHour * LOG_VOLUME_SUM * loadHours;
  const rum =
    options.rumPageLoadsPerPagePerHour * WEB_PAGES.reduce((s, p) => s + p.weight, 0) * loadHours * 1.004;
  return {
    metricSeries: series,
    metricEvents: series * Math.ceil(tl.steps / chunkSteps),
    metricSamples: series * (tl.steps + 1),
    traces: Math.round(traces),
    spans: Math.round(spans),
    logs: Math.round(volume + errorLines + tl.days),
    rum: Math.round(rum),
  };
}
