import { z } from "zod";

/**
 * SLI history at a fixed step, the input of target selection, simulation and confidence. It is read from
 * stored samples or a Prometheus `query_range`, so each point follows Prometheus' convention: `t` is the
 * evaluation time (epoch ms) and the counts are the events in the step that ends at `t`
 * (what `increase(x[step])` evaluated at `t` returns). Missing steps are gaps (no data), not zero traffic.
 *
 * `good` counts events that met the SLI: for availability every response that is not a server error, so
 * 4xx are good (the client's fault, not the service's) — the caller builds good/total that way.
 */
export const SliHistoryPoint = z.object({
  t: z.number().finite().nonnegative(),
  good: z.number().finite().nonnegative(),
  total: z.number().finite().nonnegative(),
});
export type SliHistoryPoint = z.infer<typeof SliHistoryPoint>;

export const SliHistory = z.object({
  stepMs: z.number().int().positive(),
  points: z.array(SliHistoryPoint),
  /** Where the series came from (e.g. `metrics`, `span-metrics`), shown in confidence details. */
  source: z.string().optional(),
});
export type SliHistory = z.infer<typeof SliHistory>;

/**
 * Latency histogram history: per step, the observations per bucket (not cumulative, like
 * `LatencyHistogram`): `counts[i]` falls in `(boundsMs[i-1], boundsMs[i]]` and the last count is `+Inf`.
 */
export const LatencyHistory = z.object({
  stepMs: z.number().int().positive(),
  boundsMs: z.array(z.number().finite().positive()).min(1),
  points: z.array(
    z.object({
      t: z.number().finite().nonnegative(),
      counts: z.array(z.number().finite().nonnegative()),
    }),
  ),
  source: z.string().optional(),
});
export type LatencyHistory = z.infer<typeof LatencyHistory>;
