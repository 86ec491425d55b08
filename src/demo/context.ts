import type { Attributes } from "../core/telemetry.js";
import { type StepLatency, stepLatency } from "./latency.js";
import type { PiiPool } from "./pii.js";
import type { Plan } from "./plan.js";
import { resourceAttributes } from "./resource.js";
import { HOUR_MS } from "./timeline.js";

export interface DemoOptions {
  seed: number;
  days: number;
  end: number;
  stepSeconds: number;
  tracesPerJourneyPerHour: number;
  logsPerServicePerHour: number;
  rumPageLoadsPerPagePerHour: number;
  metricChunkSeconds: number;
}

/** What the per-signal generators share: the plan, the PII pool and small caches. */
export class DemoContext {
  /** Head-sampling probability per entry journey (index of ENTRIES). */
  readonly traceRatio: Float64Array;
  /** Every step's latencies, computed once: truth, metrics, traces, logs and RUM all read them. */
  private readonly latCache: (StepLatency | undefined)[];
  private resourceCache = new Map<string, Attributes>();

  constructor(
    readonly plan: Plan,
    readonly pool: PiiPool,
    readonly options: DemoOptions,
  ) {
    const hours = plan.timeline.hours;
    this.traceRatio = Float64Array.from(plan.entries, (e) => {
      let total = 0;
      for (let i = 0; i < e.n.length; i++) total += e.n[i]!;
      return total > 0 ? Math.min(1, (options.tracesPerJourneyPerHour * hours) / total) : 0;
    });
    this.latCache = new Array(plan.timeline.steps);
  }

  hourStart(h: number): number {
    return this.plan.timeline.start + h * HOUR_MS;
  }

  latency(i: number): StepLatency {
    let l = this.latCache[i];
    if (!l) {
      l = stepLatency(this.plan, i);
      this.latCache[i] = l;
    }
    return l;
  }

  resource(service: string, time: number): Attributes {
    const after = service === this.plan.counterReset.service && time >= this.plan.counterReset.time;
    const key = `${service}|${after}`;
    let r = this.resourceCache.get(key);
    if (!r) {
      r = resourceAttributes(this.plan, service, time);
      this.resourceCache.set(key, r);
    }
    // A copy: consumers may enrich an event's attributes in place.
    return { ...r };
  }
}
