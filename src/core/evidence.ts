import { z } from "zod";

export const TimeRange = z.object({ start: z.number(), end: z.number() });
export type TimeRange = z.infer<typeof TimeRange>;

/** Something a reviewer can resolve through the store to check why a proposal was made. */
export const EvidencePointer = z.object({
  kind: z.enum(["metric", "trace", "capsule", "log", "backtest"]),
  /** A series selector, a trace id or a capsule id. */
  ref: z.string(),
  range: TimeRange.optional(),
  note: z.string().optional(),
});
export type EvidencePointer = z.infer<typeof EvidencePointer>;

export const InstrumentationRecommendation = z.object({
  service: z.string(),
  journey: z.string().optional(),
  kind: z.enum([
    "missing-metrics",
    "missing-route",
    "missing-histogram",
    "logs-only",
    "missing-traces",
    "other",
  ]),
  message: z.string(),
  snippet: z.string().optional(),
});
export type InstrumentationRecommendation = z.infer<typeof InstrumentationRecommendation>;
