/**
 * Latency per operation and step. An operation's typical (median) time is its own work plus what it waits
 * for downstream, so a slow callee shows up in every caller above it. Observations follow a log-normal around
 * that median; bucket counts are a pure function of (seed, operation, step), which is what lets the truth pass
 * and the metrics pass agree without storing anything.
 */

import { CATS, incidentShape, type OpPlan, type Plan, type ResolvedIncident } from "./plan.js";
import { normalCdf, rngFor } from "./rng.js";
import { stepEnd, trafficShape } from "./timeline.js";
import { DURATION_BUCKETS } from "./topology.js";

export interface StepLatency {
  /** Own processing median (ms) per op index. */
  selfMs: number[];
  okMs: number[];
  /** Median of the failed requests (ms). */
  errMs: number[];
  /** Median of one db / external / publish step by op index and step position. */
  stepMs: number[][];
  load: number;
}

export const ERR_SIGMA = 0.35;
export const CLIENT_ERR_SIGMA = 0.4;
const NET_MS = 0.6;

/** The per-op structure stepLatency walks, resolved once per plan. */
interface LatencyModel {
  /** Per op and step: callee op index, or -1 (db), -2 (external), -3 (publish). */
  stepKind: Int32Array[];
  stepMedian: Float64Array[];
  slowIncident: (ResolvedIncident | undefined)[];
  errorMedianMs: (number | undefined)[];
  /** Per op: [callee op index, prop arrays] for propagated errors. */
  props: [number, Int32Array[]][][];
}

const models = new WeakMap<Plan, LatencyModel>();

function modelOf(plan: Plan): LatencyModel {
  let m = models.get(plan);
  if (m) return m;
  m = {
    stepKind: plan.ops.map((p) =>
      Int32Array.from(p.op.steps, (st) =>
        "call" in st ? plan.byKey.get(st.call)!.index : "db" in st ? -1 : "external" in st ? -2 : -3,
      ),
    ),
    stepMedian: plan.ops.map((p) =>
      Float64Array.from(p.op.steps, (st) => ("medianMs" in st ? st.medianMs : 2)),
    ),
    slowIncident: plan.ops.map((p) =>
      plan.incidents.find((x) => x.opIndex === p.index && x.def.kind === "latency"),
    ),
    errorMedianMs: plan.ops.map(
      (p) =>
        plan.incidents.find((x) => x.opIndex === p.index && x.def.kind === "availability")?.def.errorMedianMs,
    ),
    props: plan.ops.map((p) =>
      [...p.prop].map(([k, arr]) => [plan.byKey.get(k)!.index, arr] as [number, Int32Array[]]),
    ),
  };
  models.set(plan, m);
  return m;
}

export function stepLatency(plan: Plan, i: number): StepLatency {
  const { ops } = plan;
  const model = modelOf(plan);
  const t = stepEnd(plan.timeline, i) - plan.timeline.stepMs / 2;
  const load = trafficShape(t);
  const rng = rngFor(plan.seed, "lat", i);
  // Plain arrays: every step keeps one of these, and small typed arrays are costly to allocate.
  const selfMs: number[] = new Array(ops.length).fill(0);
  const okMs: number[] = new Array(ops.length).fill(0);
  const errMs: number[] = new Array(ops.length).fill(0);
  const stepMs: number[][] = new Array(ops.length);
  const loadFactor = 1 + 0.2 * (load - 1);
  for (let k = ops.length - 1; k >= 0; k--) {
    const p = ops[k]!;
    const inc = model.slowIncident[k];
    const slow = inc ? 1 + ((inc.def.slowdown ?? 1) - 1) * incidentShape(inc, t) : 1;
    const self = p.op.selfMs * loadFactor * slow * Math.exp(0.05 * rng.normal());
    selfMs[k] = self;
    let ok = self;
    const kinds = model.stepKind[k]!;
    const medians = model.stepMedian[k]!;
    const mine: number[] = new Array(kinds.length).fill(0);
    for (let s = 0; s < kinds.length; s++) {
      const kind = kinds[s]!;
      let m: number;
      if (kind >= 0) m = okMs[kind]! + 2 * NET_MS;
      else if (kind === -1) m = medians[s]! * loadFactor * Math.exp(0.05 * rng.normal());
      else if (kind === -2) m = medians[s]! * Math.exp(0.08 * rng.normal());
      else m = medians[s]!;
      mine[s] = m;
      ok += m;
    }
    stepMs[k] = mine;
    okMs[k] = ok;
  }
  for (let k = ops.length - 1; k >= 0; k--) {
    const p = ops[k]!;
    const ownPlain = p.own[0]![i]! + p.own[1]![i]!;
    let weight = ownPlain;
    let acc = ownPlain * 0.5 * okMs[k]!;
    const ownIncident = p.own[2]![i]!;
    if (ownIncident > 0) {
      weight += ownIncident;
      acc += ownIncident * (model.errorMedianMs[k] ?? okMs[k]!);
    }
    for (const [child, arr] of model.props[k]!) {
      let c = 0;
      for (let cat = 0; cat < CATS; cat++) c += arr[cat]![i]!;
      if (c === 0) continue;
      weight += c;
      acc += c * (errMs[child]! + selfMs[k]! + 2 * NET_MS);
    }
    errMs[k] = weight > 0 ? acc / weight : 0.5 * okMs[k]!;
  }
  return { selfMs, okMs, errMs, stepMs, load };
}

export function clientErrorMs(p: OpPlan, lat: StepLatency): number {
  return 0.5 * lat.selfMs[p.index]! + 0.5;
}

export interface StepHistogram {
  /** Cumulative counts per DURATION_BUCKETS bound, then +Inf (= count). */
  cumulative: Int32Array;
  sumSeconds: number;
  count: number;
}

const LOG_LE_MS = DURATION_BUCKETS.map((le) => Math.log(le * 1000));

/** The step's observations of op p, as a Prometheus histogram increment. */
export function stepHistogram(plan: Plan, p: OpPlan, i: number, lat: StepLatency): StepHistogram {
  const n = p.n[i]!;
  const c4 = p.c4[i]!;
  const err = p.err[0]![i]! + p.err[1]![i]! + p.err[2]![i]!;
  const ok = n - c4 - err;
  const okMed = lat.okMs[p.index]!;
  const okSigma = p.op.sigma;
  const c4Med = clientErrorMs(p, lat);
  const errMed = lat.errMs[p.index]!;
  const logOk = Math.log(okMed);
  const logC4 = Math.log(c4Med);
  const logErr = Math.log(errMed);
  const u = rngFor(plan.seed, "hist", p.index, i).next();
  const cumulative = new Int32Array(DURATION_BUCKETS.length + 1);
  const sumMs =
    ok * okMed * Math.exp((okSigma * okSigma) / 2) +
    c4 * c4Med * Math.exp((CLIENT_ERR_SIGMA * CLIENT_ERR_SIGMA) / 2) +
    err * errMed * Math.exp((ERR_SIGMA * ERR_SIGMA) / 2);
  for (let b = 0; b < LOG_LE_MS.length; b++) {
    const l = LOG_LE_MS[b]!;
    let expected = 0;
    if (ok > 0) expected += ok * normalCdf((l - logOk) / okSigma);
    if (c4 > 0) expected += c4 * normalCdf((l - logC4) / CLIENT_ERR_SIGMA);
    if (err > 0) expected += err * normalCdf((l - logErr) / ERR_SIGMA);
    cumulative[b] = Math.min(n, Math.floor(expected + u));
  }
  cumulative[DURATION_BUCKETS.length] = n;
  return { cumulative, sumSeconds: sumMs / 1000, count: n };
}

/** Prometheus histogram_quantile over cumulative bucket counts (last = +Inf). */
export function histogramQuantile(
  q: number,
  cumulative: ArrayLike<number>,
  bounds: readonly number[],
): number {
  const total = cumulative[cumulative.length - 1]!;
  if (total === 0) return Number.NaN;
  const rank = q * total;
  for (let b = 0; b < bounds.length; b++) {
    if (cumulative[b]! >= rank) {
      const lower = b === 0 ? 0 : bounds[b - 1]!;
      const below = b === 0 ? 0 : cumulative[b - 1]!;
      const inBucket = cumulative[b]! - below;
      return inBucket === 0 ? bounds[b]! : lower + ((bounds[b]! - lower) * (rank - below)) / inBucket;
    }
  }
  return bounds[bounds.length - 1]!;
}
