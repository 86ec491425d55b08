/**
 * The integer plan behind every signal: per operation and step, how many requests arrived, how many got a
 * 4xx, and how many failed with a 5xx — split by where the failure started. Metrics, traces, logs and the
 * truth all read this one plan, so they agree with each other exactly.
 *
 * Traffic flows down the call graph (a caller's non-4xx requests each call every callee once); errors are
 * placed bottom-up: a callee's 5xx are attributed to its callers, a propagating caller answers 5xx for them,
 * and each operation's own errors are what is left of its whole-period budget, round(total × (1 − availability)).
 */

import { type Rng, rngFor } from "./rng.js";
import { DAY_MS, HOUR_MS, stepAt, stepEnd, type Timeline, trafficShape } from "./timeline.js";
import {
  COUNTER_RESET,
  ENTRIES,
  type EntryDef,
  INCIDENTS,
  type IncidentDef,
  OPS,
  type OpDef,
} from "./topology.js";

/** Error categories: 0 = 500, 1 = 503, 2 = 503 caused by an availability incident. */
export const CATS = 3;
export const CAT_STATUS = [500, 503, 503] as const;

export interface OpPlan {
  index: number;
  op: OpDef;
  n: Int32Array;
  c4: Int32Array;
  own: Int32Array[];
  /** Errors propagated from each callee (by callee key), per category. */
  prop: Map<string, Int32Array[]>;
  /** own + Σ prop, per category. */
  err: Int32Array[];
}

export interface ResolvedIncident {
  def: IncidentDef;
  start: number;
  end: number;
  opIndex: number;
}

export interface Plan {
  seed: number;
  timeline: Timeline;
  ops: OpPlan[];
  byKey: Map<string, OpPlan>;
  entries: { def: EntryDef; n: Int32Array }[];
  incidents: ResolvedIncident[];
  counterReset: { service: string; step: number; time: number; newVersion: string };
}

function cats(steps: number): Int32Array[] {
  return Array.from({ length: CATS }, () => new Int32Array(steps));
}

/** 0 → 1 → 0 over [start, end] with short ramps and a dip midway (a partial recovery). */
export function incidentShape(inc: ResolvedIncident, t: number): number {
  if (t <= inc.start || t > inc.end) return 0;
  const d = (t - inc.start) / (inc.end - inc.start);
  const up = Math.min(1, d / 0.12);
  const down = Math.min(1, (1 - d) / 0.1);
  const dip = inc.def.kind === "availability" ? 1 - 0.35 * Math.exp(-(((d - 0.55) / 0.06) ** 2)) : 1;
  return Math.max(0, Math.min(up, down)) * dip;
}

function resolveIncidents(tl: Timeline): ResolvedIncident[] {
  return INCIDENTS.map((def) => {
    const day = Math.min(tl.days - 1, Math.floor(tl.days * def.dayFraction));
    const start = tl.start + day * DAY_MS + def.startHourUtc * HOUR_MS;
    // Long incidents shrink on short periods so they do not swamp the whole history.
    const hours = Math.min(def.durationHours, tl.days * 24 * 0.15);
    const end = Math.min(tl.end, start + hours * HOUR_MS);
    const opIndex = OPS.findIndex((o) => o.key === def.op);
    if (opIndex < 0) throw new Error(`demo incident ${def.id}: unknown operation ${def.op}`);
    return { def, start, end, opIndex };
  });
}

/**
 * Spreads `total` over the steps in proportion to `weights`, never above `caps`: cumulative rounding with one
 * random offset, so the parts sum to `total` exactly.
 */
function allocate(
  total: number,
  weights: Float64Array,
  caps: Int32Array,
  rng: Rng,
  what: string,
): Int32Array {
  const out = new Int32Array(weights.length);
  if (total <= 0) return out;
  let sumW = 0;
  for (let i = 0; i < weights.length; i++) sumW += weights[i]!;
  let capacity = 0;
  for (let i = 0; i < caps.length; i++) capacity += caps[i]!;
  if (sumW <= 0 || capacity < total) {
    throw new Error(`demo plan: cannot place ${total} errors for ${what} (room for ${capacity})`);
  }
  const u = rng.next();
  let cum = 0;
  let prev = 0;
  let carry = 0;
  for (let i = 0; i < weights.length; i++) {
    cum += weights[i]!;
    const target = i === weights.length - 1 ? total : Math.floor((total * cum) / sumW + u);
    let x = target - prev + carry;
    prev = target;
    const cap = caps[i]!;
    if (x > cap) {
      carry = x - cap;
      x = cap;
    } else carry = 0;
    out[i] = x;
  }
  for (let i = weights.length - 1; carry > 0 && i >= 0; i--) {
    const room = caps[i]! - out[i]!;
    const take = Math.min(room, carry);
    out[i] = out[i]! + take;
    carry -= take;
  }
  return out;
}

export function buildPlan(seed: number, tl: Timeline): Plan {
  const S = tl.steps;
  const ops: OpPlan[] = OPS.map((op, index) => ({
    index,
    op,
    n: new Int32Array(S),
    c4: new Int32Array(S),
    own: cats(S),
    prop: new Map(),
    err: cats(S),
  }));
  const byKey = new Map(ops.map((p) => [p.op.key, p]));
  const get = (key: string) => {
    const p = byKey.get(key);
    if (!p) throw new Error(`demo plan: unknown operation ${key}`);
    return p;
  };

  const callers = new Map<string, { plan: OpPlan; propagate: boolean }[]>();
  for (const p of ops) {
    for (const step of p.op.steps) {
      if ("call" in step) {
        const list = callers.get(step.call) ?? [];
        list.push({ plan: p, propagate: step.propagate });
        callers.set(step.call, list);
        get(step.call); // a typo in the topology fails here, not as a silent zero
        if (step.propagate) p.prop.set(step.call, cats(S));
      }
    }
  }

  // Entry traffic: seasonality × slow growth × per-step noise, Poisson-like rounding.
  const growthAt = (t: number) => 0.97 + (0.06 * (t - tl.start)) / (tl.end - tl.start);
  const entries = ENTRIES.map((def, e) => {
    const rng = rngFor(seed, "entry", e);
    const n = new Int32Array(S);
    for (let i = 0; i < S; i++) {
      const tMid = stepEnd(tl, i) - tl.stepMs / 2;
      const lambda = def.ratePerSecond * (tl.stepMs / 1000) * trafficShape(tMid) * growthAt(tMid);
      n[i] = Math.floor(lambda * Math.exp(0.06 * rng.normal() - 0.0018) + rng.next());
    }
    return { def, n };
  });

  const consumers = ops.filter((p) => p.op.protocol === "messaging");
  const requestOps = ops.filter((p) => p.op.protocol !== "messaging");

  // Traffic, top-down (OPS lists callers before callees).
  for (const p of requestOps) {
    for (const e of entries)
      if (e.def.op === p.op.key) for (let i = 0; i < S; i++) p.n[i] = p.n[i]! + e.n[i]!;
    for (const c of callers.get(p.op.key) ?? []) {
      for (let i = 0; i < S; i++) p.n[i] = p.n[i]! + c.plan.n[i]! - c.plan.c4[i]!;
    }
    if (p.op.clientErrorRate > 0) {
      const rng = rngFor(seed, "c4", p.index);
      for (let i = 0; i < S; i++) {
        const x = Math.floor(
          p.n[i]! * p.op.clientErrorRate * Math.exp(0.3 * rng.normal() - 0.045) + rng.next(),
        );
        p.c4[i] = Math.min(p.n[i]!, Math.max(0, x));
      }
    }
  }

  const incidents = resolveIncidents(tl);

  const placeOwnErrors = (p: OpPlan) => {
    const rng = rngFor(seed, "own", p.index);
    let total = 0;
    let propagated = 0;
    const cap = new Int32Array(S);
    for (let i = 0; i < S; i++) {
      total += p.n[i]!;
      let pr = 0;
      for (const arr of p.prop.values()) for (let c = 0; c < CATS; c++) pr += arr[c]![i]!;
      propagated += pr;
      cap[i] = p.n[i]! - p.c4[i]! - pr;
    }
    const budget = Math.round(total * (1 - p.op.availability));
    let incidentTotal = 0;
    for (const inc of incidents) {
      if (inc.opIndex !== p.index || inc.def.kind !== "availability") continue;
      const w = new Float64Array(S);
      for (let i = 0; i < S; i++) w[i] = cap[i]! * incidentShape(inc, stepEnd(tl, i) - tl.stepMs / 2);
      const want = Math.round((inc.def.budgetShare ?? 0.5) * budget);
      let room = 0;
      for (let i = 0; i < S; i++) if (w[i]! > 0) room += cap[i]!;
      const placed = allocate(
        Math.min(want, room),
        w,
        Int32Array.from(cap, (c, i) => (w[i]! > 0 ? c : 0)),
        rng,
        inc.def.id,
      );
      for (let i = 0; i < S; i++) {
        p.own[2]![i] = p.own[2]![i]! + placed[i]!;
        cap[i] = cap[i]! - placed[i]!;
        incidentTotal += placed[i]!;
      }
    }
    const baseline = budget - propagated - incidentTotal;
    if (baseline < 0) {
      throw new Error(
        `demo topology: ${p.op.key} is told availability ${p.op.availability}, but its callees already fail ${propagated + incidentTotal} of ${total} requests; lower its availability`,
      );
    }
    // Errors cluster: noisy weights plus a few short blips (bad deploys, a node going away).
    const w = new Float64Array(S);
    for (let i = 0; i < S; i++) w[i] = cap[i]! * Math.exp(0.7 * rng.normal());
    const blips = Math.max(1, Math.round(tl.days / 3));
    for (let b = 0; b < blips; b++) {
      const at = rng.int(0, S);
      const len = rng.int(1, 4);
      for (let i = at; i < Math.min(S, at + len); i++) w[i] = w[i]! * 120;
    }
    const placed = allocate(baseline, w, cap, rng, p.op.key);
    for (let i = 0; i < S; i++) {
      const x = placed[i]!;
      const c500 = Math.floor(x * p.op.share500 + rng.next());
      p.own[0]![i] = Math.min(x, c500);
      p.own[1]![i] = x - p.own[0]![i]!;
    }
    for (let c = 0; c < CATS; c++) {
      const errC = p.err[c]!;
      const ownC = p.own[c]!;
      for (let i = 0; i < S; i++) {
        let v = ownC[i]!;
        for (const arr of p.prop.values()) v += arr[c]![i]!;
        errC[i] = v;
      }
    }
  };

  /** Hands each of p's 5xx to one of its callers (weighted by calls); propagating callers answer 5xx too. */
  const propagateUp = (p: OpPlan) => {
    const list = callers.get(p.op.key) ?? [];
    if (list.length === 0) return;
    const direct = new Int32Array(S);
    for (const e of entries)
      if (e.def.op === p.op.key) for (let i = 0; i < S; i++) direct[i] = direct[i]! + e.n[i]!;
    const rng = rngFor(seed, "up", p.index);
    const weights = new Float64Array(list.length + 1);
    for (let i = 0; i < S; i++) {
      for (let c = 0; c < CATS; c++) {
        let e = p.err[c]![i]!;
        while (e > 0) {
          for (let k = 0; k < list.length; k++) {
            const caller = list[k]!;
            const calls = caller.plan.n[i]! - caller.plan.c4[i]!;
            if (!caller.propagate) {
              weights[k] = calls;
              continue;
            }
            let used = 0;
            for (const arr of caller.plan.prop.values())
              for (let cc = 0; cc < CATS; cc++) used += arr[cc]![i]!;
            weights[k] = Math.max(0, Math.min(calls, calls - used));
          }
          weights[list.length] = direct[i]!;
          const k = rng.weighted(weights);
          if (k < 0) throw new Error(`demo plan: no caller can take an error of ${p.op.key} at step ${i}`);
          const caller = list[k];
          if (caller?.propagate) {
            const arr = caller.plan.prop.get(p.op.key)![c]!;
            arr[i] = arr[i]! + 1;
          }
          e--;
        }
      }
    }
  };

  for (let k = requestOps.length - 1; k >= 0; k--) {
    const p = requestOps[k]!;
    placeOwnErrors(p);
    propagateUp(p);
  }

  // Consumers see one message per order placed (checkout successes).
  for (const p of consumers) {
    for (const producer of ops) {
      for (const step of producer.op.steps) {
        if (!("publish" in step) || step.consumer !== p.op.key) continue;
        for (let i = 0; i < S; i++) {
          let errs = 0;
          for (let c = 0; c < CATS; c++) errs += producer.err[c]![i]!;
          p.n[i] = p.n[i]! + producer.n[i]! - producer.c4[i]! - errs;
        }
      }
    }
    placeOwnErrors(p);
  }

  const resetDay = Math.min(tl.days - 1, Math.floor(tl.days * COUNTER_RESET.dayFraction));
  const resetTime = tl.start + resetDay * DAY_MS + COUNTER_RESET.hourUtc * HOUR_MS;
  const resetStep = stepAt(tl, resetTime);
  return {
    seed,
    timeline: tl,
    ops,
    byKey,
    entries,
    incidents,
    counterReset: {
      service: COUNTER_RESET.service,
      step: resetStep,
      time: stepEnd(tl, resetStep) - tl.stepMs,
      newVersion: COUNTER_RESET.newVersion,
    },
  };
}

export function totalErrors(p: OpPlan, i: number): number {
  return p.err[0]![i]! + p.err[1]![i]! + p.err[2]![i]!;
}
