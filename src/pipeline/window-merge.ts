import type { EdgeStats, ExampleTrace, RouteStats, WebVitalStats } from "../core/aggregates.js";
import type { Capsule } from "../core/capsule.js";
import { mergeInto } from "./histogram.js";
import { DEFAULT_SAMPLES_PER_FINGERPRINT } from "./reservoir.js";

/**
 * Adds a worker's contribution to a window (see windows.ts) to the window's stored total. Pure: the
 * caller reads the stored rows and writes the results, under a lock that keeps two workers from merging
 * into the same rows at once.
 */

/**
 * Two uniform samples of disjoint streams (`aSeen` and `bSeen` items long) merged into one uniform sample
 * of both: how many picks come from each side is drawn as if picking from the streams themselves (without
 * replacement), then that many items are taken at random from each side's sample.
 */
export function mergeSamples<T>(
  a: readonly T[],
  aSeen: number,
  b: readonly T[],
  bSeen: number,
  capacity: number,
  random: () => number,
): T[] {
  let restA = Math.max(aSeen, a.length);
  let restB = Math.max(bSeen, b.length);
  let fromA = 0;
  let fromB = 0;
  while (fromA + fromB < Math.min(capacity, a.length + b.length)) {
    // A side whose sample is used up cannot give more, whatever its stream's length.
    const pickA = fromB >= b.length || (fromA < a.length && random() * (restA + restB) < restA);
    if (pickA) {
      fromA++;
      restA--;
    } else {
      fromB++;
      restB--;
    }
  }
  return [...pickRandom(a, fromA, random), ...pickRandom(b, fromB, random)];
}

function pickRandom<T>(items: readonly T[], n: number, random: () => number): T[] {
  const rest = [...items];
  const out: T[] = [];
  while (out.length < n) out.push(rest.splice(Math.floor(random() * rest.length), 1)[0]!);
  return out;
}

export function mergeCapsule(stored: Capsule | undefined, added: Capsule, random: () => number): Capsule {
  if (!stored) return added;
  const severityCounts = { ...stored.severityCounts };
  for (const [k, n] of Object.entries(added.severityCounts) as [keyof typeof severityCounts, number][]) {
    severityCounts[k] = (severityCounts[k] ?? 0) + n;
  }
  return {
    ...added,
    count: stored.count + added.count,
    severityCounts,
    firstSeen: Math.min(stored.firstSeen, added.firstSeen),
    lastSeen: Math.max(stored.lastSeen, added.lastSeen),
    samples: mergeSamples(
      stored.samples,
      stored.count,
      added.samples,
      added.count,
      DEFAULT_SAMPLES_PER_FINGERPRINT,
      random,
    ),
    ...(stored.blobRef ? { blobRef: stored.blobRef } : {}),
  };
}

export function mergeRoute(stored: RouteStats | undefined, added: RouteStats): RouteStats {
  if (!stored) return added;
  const latency = structuredClone(stored.latency);
  mergeInto(latency, added.latency);
  return {
    ...added,
    requests: stored.requests + added.requests,
    errors: stored.errors + added.errors,
    clientErrors: stored.clientErrors + added.clientErrors,
    fromBrowser: stored.fromBrowser + added.fromBrowser,
    latency,
  };
}

export function mergeEdge(stored: EdgeStats | undefined, added: EdgeStats): EdgeStats {
  if (!stored) return added;
  const latency = structuredClone(stored.latency);
  mergeInto(latency, added.latency);
  return { ...added, calls: stored.calls + added.calls, errors: stored.errors + added.errors, latency };
}

export function mergeWebVital(stored: WebVitalStats | undefined, added: WebVitalStats): WebVitalStats {
  if (!stored) return added;
  const histogram = {
    ...stored.histogram,
    counts: stored.histogram.counts.map((n, i) => n + (added.histogram.counts[i] ?? 0)),
    sum: stored.histogram.sum + added.histogram.sum,
  };
  return { ...added, count: stored.count + added.count, histogram };
}

/** A journey-window's example traces: the stored ones stand for `storedSeen` traces (its request count). */
export function mergeExamples(
  stored: readonly ExampleTrace[],
  storedSeen: number,
  added: { seen: number; traces: readonly ExampleTrace[] },
  capacity: number,
  random: () => number,
): ExampleTrace[] {
  return mergeSamples(stored, storedSeen, added.traces, added.seen, capacity, random);
}
