import type {
  EdgeStats,
  ExampleTrace,
  LatencyHistogram,
  RouteStats,
  WebVitalStats,
} from "../../src/core/aggregates.js";
import type { Capsule } from "../../src/core/capsule.js";
import type { MetricSeries } from "../../src/core/telemetry.js";
import type { Sql } from "../../src/store/ports.js";
import {
  replaceExampleTraces,
  upsertEdgeStats,
  upsertRouteStats,
  upsertWebVitalStats,
} from "../../src/store/repos/aggregates.js";
import { upsertCapsules } from "../../src/store/repos/capsules.js";
import { insertSamples } from "../../src/store/repos/metric-samples.js";
import { touchService } from "../../src/store/repos/services.js";

/**
 * A small synthetic service written straight into the store the way the stream stage writes it:
 * Prometheus-style counters (and a duration histogram) sampled every `stepMs`, hourly route/edge
 * aggregates, example traces and log capsules — with the exact good/total it was told to produce.
 */

export const STEP = 15 * 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;
export const END = Date.UTC(2026, 10, 20);

export interface StepCounts {
  ok: number;
  client: number;
  server: number;
}

export interface FixtureSpec {
  service: string;
  method?: string;
  route?: string;
  /** Journey key seen in traces; default `${service} ${method} ${route}`. */
  journeyKey?: string;
  days: number;
  end?: number;
  counts: (step: number, t: number) => StepCounts;
  /** Latency: share of requests per bucket (bounds in seconds), summing to 1. */
  latency?: { les: number[]; shares: number[] };
  metrics?: boolean;
  traces?: boolean;
  downstream?: string[];
  capsules?: (hourStart: number) => Capsule[];
  failingTraceAt?: number;
  /** Requests come from a browser (the journey is user-facing), with these web-vital stats per hour. */
  browser?: (hourStart: number) => WebVitalStats[];
}

export interface FixtureTruth {
  good: number;
  total: number;
  latencyGood: Map<string, number>;
}

const emptyHist = (bounds: number[]): LatencyHistogram => ({
  boundsMs: bounds,
  counts: new Array(bounds.length + 1).fill(0),
  sumMs: 0,
});

export async function writeService(sql: Sql, spec: FixtureSpec): Promise<FixtureTruth> {
  const end = spec.end ?? END;
  const start = end - spec.days * DAY;
  const steps = Math.round((end - start) / STEP);
  const method = spec.method ?? "GET";
  const route = spec.route ?? "/";
  const key = spec.journeyKey ?? `${spec.service} ${method} ${route}`;
  const base = { service: spec.service, route, method };
  const statuses = { ok: "200", client: "404", server: "500" } as const;
  const counters = Object.fromEntries(
    Object.values(statuses).map((s) => [s, [{ time: start, value: 0 }]]),
  ) as Record<string, { time: number; value: number }[]>;
  const les = spec.latency?.les ?? [];
  const buckets = [...les.map(String), "+Inf"].map(() => [{ time: start, value: 0 }]);
  const count = [{ time: start, value: 0 }];
  const truth: FixtureTruth = { good: 0, total: 0, latencyGood: new Map() };
  const routes = new Map<number, RouteStats>();
  const edges: EdgeStats[] = [];
  for (let i = 1; i <= steps; i++) {
    const t = start + i * STEP;
    const c = spec.counts(i, t);
    const n = c.ok + c.client + c.server;
    truth.total += n;
    truth.good += c.ok + c.client;
    for (const [k, status] of Object.entries(statuses)) {
      const list = counters[status]!;
      list.push({ time: t, value: list[list.length - 1]!.value + c[k as keyof StepCounts] });
    }
    if (spec.latency) {
      let cum = 0;
      spec.latency.shares.forEach((share, b) => {
        cum += share;
        const list = buckets[b]!;
        const inc = Math.round(n * Math.min(1, cum));
        list.push({ time: t, value: list[list.length - 1]!.value + inc });
        const le = b < les.length ? String(les[b]) : "+Inf";
        truth.latencyGood.set(le, (truth.latencyGood.get(le) ?? 0) + inc);
      });
      count.push({ time: t, value: count[count.length - 1]!.value + n });
    }
    // Traces sample about a tenth of the requests, per hour window.
    const hourStart = Math.floor((t - 1) / HOUR) * HOUR;
    let r = routes.get(hourStart);
    if (!r) {
      r = {
        journeyKey: key,
        service: spec.service,
        // A journey keyed without its route (raw paths folded) carries no route, as the stream stage writes it.
        ...(spec.route && !spec.journeyKey ? { method, route } : { method }),
        operation: key.slice(spec.service.length + 1),
        windowStart: hourStart,
        requests: 0,
        errors: 0,
        clientErrors: 0,
        fromBrowser: 0,
        latency: emptyHist([50, 100, 250, 500]),
      };
      routes.set(hourStart, r);
    }
    const sampled = Math.round(n / 10);
    r.requests += sampled;
    r.errors += Math.round(c.server / 10);
    r.clientErrors += Math.round(c.client / 10);
    r.latency.counts[1]! += sampled;
    if (spec.browser) r.fromBrowser += sampled;
  }
  if (spec.metrics !== false) {
    const series: MetricSeries[] = Object.entries(counters).map(([status, samples]) => ({
      name: "http_server_requests_total",
      type: "counter",
      labels: { ...base, status },
      samples,
    }));
    if (spec.latency) {
      buckets.forEach((samples, b) => {
        series.push({
          name: "http_server_request_duration_seconds_bucket",
          type: "histogram",
          labels: { ...base, le: b < les.length ? String(les[b]) : "+Inf" },
          samples,
        });
      });
      series.push({
        name: "http_server_request_duration_seconds_count",
        type: "histogram",
        labels: base,
        samples: count,
      });
    }
    await insertSamples(sql, series);
  }
  if (spec.traces !== false) {
    for (const r of routes.values()) {
      for (const to of spec.downstream ?? []) {
        edges.push({
          journeyKey: key,
          from: spec.service,
          to,
          operation: `call ${to}`,
          windowStart: r.windowStart,
          calls: r.requests,
          errors: 0,
          latency: { ...emptyHist([50, 100, 250, 500]), counts: [r.requests, 0, 0, 0, 0] },
        });
      }
    }
    await upsertRouteStats(sql, [...routes.values()]);
    await upsertEdgeStats(sql, edges);
    const traces: ExampleTrace[] = [...routes.values()].slice(-3).map((r, i) => ({
      journeyKey: key,
      traceId: `${String(i).repeat(32)}`.slice(0, 32),
      windowStart: r.windowStart,
      spans: [
        {
          spanId: "1",
          service: spec.service,
          name: key,
          kind: "server",
          durationMs: 20,
          status: "unset",
          attributes: {},
        },
      ],
    }));
    if (spec.failingTraceAt !== undefined) {
      traces.push({
        journeyKey: key,
        traceId: "f".repeat(32),
        windowStart: Math.floor(spec.failingTraceAt / HOUR) * HOUR,
        spans: [
          {
            spanId: "1",
            service: spec.service,
            name: key,
            kind: "server",
            durationMs: 20,
            status: "error",
            attributes: {},
          },
        ],
      });
    }
    await replaceExampleTraces(sql, traces);
  }
  if (spec.browser) {
    const all: WebVitalStats[] = [];
    for (let h = start; h < end; h += HOUR) all.push(...spec.browser(h));
    for (let i = 0; i < all.length; i += 500) await upsertWebVitalStats(sql, all.slice(i, i + 500));
  }
  if (spec.capsules) {
    const all: Capsule[] = [];
    for (let h = start; h < end; h += HOUR) all.push(...spec.capsules(h));
    for (let i = 0; i < all.length; i += 500) await upsertCapsules(sql, all.slice(i, i + 500));
  }
  await touchService(sql, spec.service, end, spec.metrics === false ? ["log"] : ["metric", "span"]);
  return truth;
}

export function capsule(
  service: string,
  fingerprintChar: string,
  template: string,
  windowStart: number,
  counts: Partial<Capsule["severityCounts"]>,
): Capsule {
  const total = Object.values(counts).reduce((a, b) => a + (b ?? 0), 0);
  return {
    fingerprint: fingerprintChar.repeat(64),
    template,
    service,
    windowStart,
    count: total,
    severityCounts: { trace: 0, debug: 0, info: 0, warn: 0, error: 0, fatal: 0, ...counts },
    firstSeen: windowStart,
    lastSeen: windowStart + HOUR - 1,
    samples: [template],
  };
}
