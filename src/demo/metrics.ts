/**
 * Prometheus-style series of the shop's HTTP servers, one `kind:"metric"` event per series per chunk
 * (default one hour of samples), in time order:
 *   http_server_requests_total{service,route,method,status}            counter
 *   http_server_request_duration_seconds_bucket{service,route,method,le} + _sum + _count   histogram
 * Counters start at 0 at the period's start (a sample at `start`) and are cumulative; the inventory service
 * restarts once (truth.counterResets), after which its series start again from 0.
 */

import type { TelemetryEvent } from "../core/telemetry.js";
import { type StepHistogram, type StepLatency, stepHistogram } from "./latency.js";
import type { OpPlan, Plan } from "./plan.js";
import { resourceAttributes } from "./resource.js";
import { stepEnd } from "./timeline.js";
import { DURATION_BUCKETS } from "./topology.js";

export const REQUESTS_TOTAL = "http_server_requests_total";
export const DURATION = "http_server_request_duration_seconds";

/** What a series counts, from the op's step counts and histogram. */
type Measure =
  | { kind: "status"; status: "success" | "client" | "500" | "503" }
  | { kind: "bucket"; index: number }
  | { kind: "sum" }
  | { kind: "count" };

interface SeriesDef {
  op: OpPlan;
  name: string;
  type: "counter" | "histogram";
  labels: Record<string, string>;
  measure: Measure;
}

export function formatLe(le: number): string {
  return Number.isFinite(le) ? String(le) : "+Inf";
}

export function seriesDefs(plan: Plan): SeriesDef[] {
  const defs: SeriesDef[] = [];
  for (const p of plan.ops) {
    if (!p.op.metrics) continue;
    const base = { service: p.op.service, route: p.op.route, method: p.op.method };
    const counter = (status: number, which: "success" | "client" | "500" | "503") =>
      defs.push({
        op: p,
        name: REQUESTS_TOTAL,
        type: "counter",
        labels: { ...base, status: String(status) },
        measure: { kind: "status", status: which },
      });
    counter(p.op.successStatus, "success");
    if (p.op.clientErrorStatus !== undefined) counter(p.op.clientErrorStatus, "client");
    counter(500, "500");
    counter(503, "503");
    [...DURATION_BUCKETS, Number.POSITIVE_INFINITY].forEach((le, index) => {
      defs.push({
        op: p,
        name: `${DURATION}_bucket`,
        type: "histogram",
        labels: { ...base, le: formatLe(le) },
        measure: { kind: "bucket", index },
      });
    });
    defs.push({ op: p, name: `${DURATION}_sum`, type: "histogram", labels: base, measure: { kind: "sum" } });
    defs.push({
      op: p,
      name: `${DURATION}_count`,
      type: "histogram",
      labels: base,
      measure: { kind: "count" },
    });
  }
  return defs;
}

function increment(def: SeriesDef, i: number, hist: StepHistogram): number {
  const q = def.op;
  const m = def.measure;
  switch (m.kind) {
    case "status": {
      const e500 = q.err[0]![i]!;
      const e503 = q.err[1]![i]! + q.err[2]![i]!;
      if (m.status === "500") return e500;
      if (m.status === "503") return e503;
      if (m.status === "client") return q.c4[i]!;
      return q.n[i]! - q.c4[i]! - e500 - e503;
    }
    case "bucket":
      return hist.cumulative[m.index]!;
    case "sum":
      return hist.sumSeconds;
    case "count":
      return hist.count;
  }
}

export function* metricEvents(
  plan: Plan,
  chunkSeconds: number,
  latency: (step: number) => StepLatency,
): Generator<TelemetryEvent> {
  const tl = plan.timeline;
  const chunkSteps = Math.max(1, Math.round((chunkSeconds * 1000) / tl.stepMs));
  const defs = seriesDefs(plan);
  const metricOps = plan.ops.filter((p) => p.op.metrics);
  const values = new Float64Array(defs.length);
  const reset = plan.counterReset;
  const hists: StepHistogram[] = new Array(plan.ops.length);
  for (let from = 0; from < tl.steps; from += chunkSteps) {
    const to = Math.min(tl.steps, from + chunkSteps);
    const samples: { time: number; value: number }[][] = defs.map(() => []);
    if (from === 0) for (const s of samples) s.push({ time: tl.start, value: 0 });
    for (let i = from; i < to; i++) {
      const lat = latency(i);
      for (const p of metricOps) hists[p.index] = stepHistogram(plan, p, i, lat);
      const time = stepEnd(tl, i);
      for (let d = 0; d < defs.length; d++) {
        const def = defs[d]!;
        if (i === reset.step && def.op.op.service === reset.service) values[d] = 0;
        const v = values[d]! + increment(def, i, hists[def.op.index]!);
        values[d] = v;
        samples[d]!.push({ time, value: def.measure.kind === "sum" ? Math.round(v * 1e6) / 1e6 : v });
      }
    }
    const time = stepEnd(tl, to - 1);
    for (let d = 0; d < defs.length; d++) {
      const def = defs[d]!;
      yield {
        schemaVersion: 1,
        kind: "metric",
        service: def.op.op.service,
        time,
        attributes: resourceAttributes(plan, def.op.op.service, time),
        metric: { name: def.name, type: def.type, labels: { ...def.labels }, samples: samples[d]! },
      };
    }
  }
}
