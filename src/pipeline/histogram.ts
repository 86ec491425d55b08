import type { LatencyHistogram } from "../core/aggregates.js";

/** Bucket bounds in ms: the OpenTelemetry default HTTP duration buckets (seconds ×1000). */
export const DEFAULT_LATENCY_BOUNDS_MS = [
  5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000,
];

export function emptyHistogram(boundsMs: number[] = DEFAULT_LATENCY_BOUNDS_MS): LatencyHistogram {
  return { boundsMs: [...boundsMs], counts: new Array(boundsMs.length + 1).fill(0), sumMs: 0 };
}

export function observe(h: LatencyHistogram, valueMs: number): void {
  let i = 0;
  while (i < h.boundsMs.length && valueMs > h.boundsMs[i]!) i++;
  h.counts[i]!++;
  h.sumMs += Math.max(0, valueMs);
}

export function mergeInto(target: LatencyHistogram, source: LatencyHistogram): void {
  if (target.boundsMs.join() !== source.boundsMs.join())
    throw new Error("cannot merge histograms with different bounds");
  for (let i = 0; i < source.counts.length; i++) target.counts[i]! += source.counts[i]!;
  target.sumMs += source.sumMs;
}

/**
 * The q-quantile as the upper bound of the bucket it falls in (a conservative estimate: the true value is
 * at most this). Infinity when it falls in the +Inf bucket; undefined for an empty histogram.
 */
export function quantileUpperBound(h: LatencyHistogram, q: number): number | undefined {
  const total = h.counts.reduce((a, b) => a + b, 0);
  if (total === 0) return undefined;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < h.counts.length; i++) {
    seen += h.counts[i]!;
    if (seen >= rank) return i < h.boundsMs.length ? h.boundsMs[i]! : Number.POSITIVE_INFINITY;
  }
  return Number.POSITIVE_INFINITY;
}
