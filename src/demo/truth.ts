/**
 * What the generator was told to produce, measured on what it actually emits: totals come from the same
 * plan and the same per-step histogram function the metric events are built from, so a reader that recomputes
 * good/total from the emitted counters gets these numbers exactly.
 */

import { histogramQuantile, type StepLatency, stepHistogram } from "./latency.js";
import type { PlantedPii } from "./pii.js";
import { CATS, type Plan } from "./plan.js";
import { DAY_MS, stepEnd } from "./timeline.js";
import { DURATION_BUCKETS, type TopologyEdge } from "./topology.js";

export interface JourneyTruth {
  key: string;
  service: string;
  method: string;
  route: string;
  protocol: "http" | "grpc" | "messaging";
  /** Whether http_server_* series are emitted for it (gRPC and consumers: traces and logs only). */
  hasMetrics: boolean;
  /** The availability the generator was told to hit. */
  targetAvailability: number;
  /** good / total over the period, good = not 5xx (4xx are good). Exact for the emitted counters. */
  availability: number;
  total: number;
  good: number;
  serverErrors: number;
  clientErrors: number;
  byStatus: Record<string, number>;
  /** 5xx caused by each incident (by incident id); the rest are background errors and blips. */
  errorsByIncident: Record<string, number>;
  /** The incident whose errors use the largest share of this journey's failures, if any. */
  topBudgetConsumer: { incident: string; share: number } | null;
  /** The day (UTC start) with the most 5xx. */
  worstDay: { start: number; serverErrors: number };
  /** From the period's summed histogram, as histogram_quantile computes it. */
  latencyP50Seconds: number;
  latencyP95Seconds: number;
  latencyP99Seconds: number;
  /** Smallest bucket bound holding ≥ 95% of requests (a p95 threshold snapped to a bucket). */
  latencyP95BucketSeconds: number;
  /** Share of requests at or under each bucket bound, keyed like the `le` label. */
  latencyGoodRatioByLe: Record<string, number>;
  /**
   * Inside each incident's time range (by incident id): requests, all 5xx (whatever their cause), and the
   * share of requests at or under latencyP95BucketSeconds.
   */
  incidentWindows: Record<
    string,
    { total: number; serverErrors: number; latencyGoodRatioAtP95Bucket: number }
  >;
}

export interface IncidentTruth {
  id: string;
  kind: "availability" | "latency";
  service: string;
  journey: string;
  description: string;
  start: number;
  end: number;
  /** availability: 5xx the incident caused at its own journey. */
  errors?: number;
  /** latency: peak multiplier on the journey's own processing time. */
  slowdown?: number;
}

export interface DemoTruth {
  seed: number;
  /** Counters are 0 at `start` and cover (start, end]. */
  start: number;
  end: number;
  days: number;
  stepSeconds: number;
  bucketsSeconds: readonly number[];
  journeys: Record<string, JourneyTruth>;
  incidents: IncidentTruth[];
  counterResets: { service: string; time: number; reason: string }[];
  edges: TopologyEdge[];
  /** Head-sampling probability of traces per entry journey (same for errors and successes). */
  traceSampling: Record<string, number>;
  pii: PlantedPii[];
  /** Where planted PII occurs. */
  piiLocations: string[];
  promptInjection: { service: string; text: string };
}

export function computeJourneyTruth(
  plan: Plan,
  latency: (step: number) => StepLatency,
): Record<string, JourneyTruth> {
  const tl = plan.timeline;
  const nb = DURATION_BUCKETS.length + 1;
  const sums = plan.ops.map(() => new Float64Array(nb));
  // The same sums restricted to each incident's window: [incident][op][bucket].
  const inWindow = plan.incidents.map(() => plan.ops.map(() => new Float64Array(nb)));
  const windowErrors = plan.incidents.map(() => new Float64Array(plan.ops.length));
  for (let i = 0; i < tl.steps; i++) {
    const lat = latency(i);
    const t = stepEnd(tl, i);
    const windows = plan.incidents.map((inc) => t > inc.start && t <= inc.end);
    for (const p of plan.ops) {
      const h = stepHistogram(plan, p, i, lat);
      const acc = sums[p.index]!;
      for (let b = 0; b < nb; b++) acc[b] = acc[b]! + h.cumulative[b]!;
      windows.forEach((inside, w) => {
        if (!inside) return;
        const wacc = inWindow[w]![p.index]!;
        for (let b = 0; b < nb; b++) wacc[b] = wacc[b]! + h.cumulative[b]!;
        windowErrors[w]![p.index] =
          windowErrors[w]![p.index]! + p.err[0]![i]! + p.err[1]![i]! + p.err[2]![i]!;
      });
    }
  }
  const out: Record<string, JourneyTruth> = {};
  for (const p of plan.ops) {
    const op = p.op;
    let total = 0;
    let c4 = 0;
    const byCat = new Array<number>(CATS).fill(0);
    const perDay = new Float64Array(tl.days);
    for (let i = 0; i < tl.steps; i++) {
      total += p.n[i]!;
      c4 += p.c4[i]!;
      let e = 0;
      for (let c = 0; c < CATS; c++) {
        byCat[c] = byCat[c]! + p.err[c]![i]!;
        e += p.err[c]![i]!;
      }
      const day = Math.floor((stepEnd(tl, i) - 1 - tl.start) / DAY_MS);
      perDay[day] = perDay[day]! + e;
    }
    const serverErrors = byCat[0]! + byCat[1]! + byCat[2]!;
    const good = total - serverErrors;
    const byStatus: Record<string, number> = {
      [String(op.successStatus)]: total - c4 - serverErrors,
      "500": byCat[0]!,
      "503": byCat[1]! + byCat[2]!,
    };
    if (op.clientErrorStatus !== undefined) byStatus[String(op.clientErrorStatus)] = c4;
    const errorsByIncident: Record<string, number> = {};
    for (const inc of plan.incidents)
      if (inc.def.kind === "availability") errorsByIncident[inc.def.id] = byCat[2]!;
    let top: JourneyTruth["topBudgetConsumer"] = null;
    for (const [id, n] of Object.entries(errorsByIncident)) {
      if (n > 0 && serverErrors > 0 && (!top || n / serverErrors > top.share))
        top = { incident: id, share: n / serverErrors };
    }
    let worst = 0;
    for (let d = 1; d < tl.days; d++) if (perDay[d]! > perDay[worst]!) worst = d;
    const cum = sums[p.index]!;
    const n = cum[nb - 1]!;
    const ratio: Record<string, number> = {};
    DURATION_BUCKETS.forEach((le, b) => {
      ratio[String(le)] = n > 0 ? cum[b]! / n : 1;
    });
    let p95Bucket = Number.POSITIVE_INFINITY;
    for (let b = 0; b < DURATION_BUCKETS.length; b++) {
      if (cum[b]! >= 0.95 * n) {
        p95Bucket = DURATION_BUCKETS[b]!;
        break;
      }
    }
    const p95Index = DURATION_BUCKETS.indexOf(p95Bucket);
    const incidentWindows: JourneyTruth["incidentWindows"] = {};
    plan.incidents.forEach((inc, w) => {
      const win = inWindow[w]![p.index]!;
      const requests = win[nb - 1]!;
      incidentWindows[inc.def.id] = {
        total: requests,
        serverErrors: windowErrors[w]![p.index]!,
        latencyGoodRatioAtP95Bucket: requests > 0 && p95Index >= 0 ? win[p95Index]! / requests : 1,
      };
    });
    out[op.key] = {
      key: op.key,
      service: op.service,
      method: op.method,
      route: op.route,
      protocol: op.protocol,
      hasMetrics: op.metrics,
      targetAvailability: op.availability,
      availability: total > 0 ? good / total : 1,
      total,
      good,
      serverErrors,
      clientErrors: c4,
      byStatus,
      errorsByIncident,
      topBudgetConsumer: top,
      worstDay: { start: tl.start + worst * DAY_MS, serverErrors: perDay[worst]! },
      latencyP50Seconds: histogramQuantile(0.5, cum, DURATION_BUCKETS),
      latencyP95Seconds: histogramQuantile(0.95, cum, DURATION_BUCKETS),
      latencyP99Seconds: histogramQuantile(0.99, cum, DURATION_BUCKETS),
      latencyP95BucketSeconds: p95Bucket,
      latencyGoodRatioByLe: ratio,
      incidentWindows,
    };
  }
  return out;
}
