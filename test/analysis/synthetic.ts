import type { SliHistory } from "../../src/core/history.js";
import { seededRandom } from "../../src/core/random.js";

/**
 * Seeded synthetic SLI histories for tests: steady traffic with a daily cycle, Poisson-like bad events at a
 * base error rate, and optional incidents and gaps. Deterministic for a given seed.
 */

export interface Incident {
  /** Days after the start (fractional allowed). */
  atDay: number;
  hours: number;
  errorRate: number;
}

export interface SynthSpec {
  days: number;
  stepMs?: number;
  /** Epoch ms of the first step's start; default 2026-10-01T00:00Z. */
  start?: number;
  /** Mean events per step. */
  perStep: number;
  errorRate: number;
  seed?: number;
  incidents?: Incident[];
  gaps?: Array<{ atDay: number; hours: number }>;
  source?: string;
}

export const START = Date.UTC(2026, 9, 1);

function poisson(lambda: number, rand: () => number): number {
  if (lambda <= 0) return 0;
  if (lambda > 50) {
    const u = Math.max(1e-12, rand());
    const v = rand();
    const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * z));
  }
  const l = Math.exp(-lambda);
  let k = 0;
  let p = 1;
  do {
    k++;
    p *= rand();
  } while (p > l);
  return k - 1;
}

export function synthHistory(spec: SynthSpec): SliHistory {
  const stepMs = spec.stepMs ?? 300_000;
  const start = spec.start ?? START;
  const rand = seededRandom(spec.seed ?? 1);
  const n = Math.round((spec.days * 86_400_000) / stepMs);
  const points: SliHistory["points"] = [];
  for (let i = 0; i < n; i++) {
    const t = start + (i + 1) * stepMs;
    const day = (t - start) / 86_400_000;
    if (spec.gaps?.some((g) => day > g.atDay && day <= g.atDay + g.hours / 24)) continue;
    const cycle = 1 + 0.5 * Math.sin(((t % 86_400_000) / 86_400_000) * 2 * Math.PI);
    const total = poisson(spec.perStep * cycle, rand);
    let rate = spec.errorRate;
    for (const inc of spec.incidents ?? []) {
      if (day > inc.atDay && day <= inc.atDay + inc.hours / 24) rate = Math.max(rate, inc.errorRate);
    }
    const bad = Math.min(total, poisson(total * rate, rand));
    points.push({ t, good: total - bad, total });
  }
  return { stepMs, points, source: spec.source };
}
