import { z } from "zod";

export const Service = z.object({
  name: z.string().min(1),
  firstSeen: z.number().optional(),
  lastSeen: z.number().optional(),
  signals: z.array(z.enum(["span", "metric", "log", "rum"])).default([]),
});
export type Service = z.infer<typeof Service>;

/** One service→service call in a journey's downstream DAG. */
export const JourneyEdge = z.object({
  from: z.string(),
  to: z.string(),
  operation: z.string(),
  calls: z.number().nonnegative(),
  errorShare: z.number().min(0).max(1),
  p50Ms: z.number().nonnegative(),
  p95Ms: z.number().nonnegative(),
});
export type JourneyEdge = z.infer<typeof JourneyEdge>;

export const Journey = z.object({
  /** service + method + route (or the documented fallbacks), e.g. `api-gateway POST /api/checkout`. */
  key: z.string(),
  service: z.string(),
  method: z.string().optional(),
  route: z.string().optional(),
  entrySpans: z.array(z.string()),
  downstream: z.array(JourneyEdge),
  signature: z.string(),
  trafficShare: z.number().min(0).max(1),
  requests: z.number().nonnegative(),
  errorShare: z.number().min(0).max(1),
  depth: z.number().int().nonnegative(),
  userFacing: z.boolean(),
  score: z.number(),
  exampleTraceIds: z.array(z.string()).default([]),
});
export type Journey = z.infer<typeof Journey>;
