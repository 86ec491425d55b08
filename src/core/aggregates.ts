import { z } from "zod";

/**
 * What the stream stage keeps of spans and RUM, per 1h window: enough for journey discovery and
 * span-metric SLIs without storing every span. Every row is keyed so re-processing a batch is an upsert.
 */

/** Cumulative-free histogram: counts[i] is the number of observations <= bounds[i] and > bounds[i-1]; the last count is +Inf. */
export const LatencyHistogram = z.object({
  boundsMs: z.array(z.number()),
  counts: z.array(z.number().int().nonnegative()),
  sumMs: z.number().nonnegative(),
});
export type LatencyHistogram = z.infer<typeof LatencyHistogram>;

/** One journey entry point (root SERVER/CONSUMER span or local root) in one window. */
export const RouteStats = z.object({
  journeyKey: z.string(),
  service: z.string(),
  method: z.string().optional(),
  route: z.string().optional(),
  operation: z.string(),
  windowStart: z.number(),
  requests: z.number().int().nonnegative(),
  /** Server errors (5xx or span status error); 4xx are counted apart and are not errors. */
  errors: z.number().int().nonnegative(),
  clientErrors: z.number().int().nonnegative(),
  /** Requests whose upstream was a browser/RUM root. */
  fromBrowser: z.number().int().nonnegative(),
  latency: LatencyHistogram,
});
export type RouteStats = z.infer<typeof RouteStats>;

/** A service→service call seen under a journey, in one window. */
export const EdgeStats = z.object({
  journeyKey: z.string(),
  from: z.string(),
  to: z.string(),
  operation: z.string(),
  windowStart: z.number(),
  calls: z.number().int().nonnegative(),
  errors: z.number().int().nonnegative(),
  latency: LatencyHistogram,
});
export type EdgeStats = z.infer<typeof EdgeStats>;

export const SpanSummary = z.object({
  spanId: z.string(),
  parentSpanId: z.string().optional(),
  service: z.string(),
  name: z.string(),
  kind: z.string(),
  durationMs: z.number(),
  status: z.string(),
  attributes: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
});
export type SpanSummary = z.infer<typeof SpanSummary>;

/** A reservoir-sampled example trace of a journey, kept with its span tree. */
export const ExampleTrace = z.object({
  journeyKey: z.string(),
  traceId: z.string(),
  windowStart: z.number(),
  spans: z.array(SpanSummary),
});
export type ExampleTrace = z.infer<typeof ExampleTrace>;

/** A web-vital distribution for one page in one window. */
export const WebVitalStats = z.object({
  service: z.string(),
  page: z.string(),
  metric: z.enum(["LCP", "INP", "CLS", "FCP", "TTFB", "FID"]),
  windowStart: z.number(),
  count: z.number().int().nonnegative(),
  /** Bounds in the metric's unit (ms, or unitless for CLS). */
  histogram: z.object({
    bounds: z.array(z.number()),
    counts: z.array(z.number().int().nonnegative()),
    sum: z.number(),
  }),
});
export type WebVitalStats = z.infer<typeof WebVitalStats>;
