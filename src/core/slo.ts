import { z } from "zod";

export const SliKind = z.enum(["availability", "latency", "log", "rum"]);
export type SliKind = z.infer<typeof SliKind>;

/** A candidate SLI as PromQL: good/total when it is a ratio of counters, and always the error ratio. */
export const Sli = z.object({
  id: z.string(),
  journey: z.string(),
  kind: SliKind,
  source: z.enum(["metrics", "span-metrics", "logs", "rum"]),
  promql: z.object({ good: z.string().optional(), total: z.string().optional(), errorRatio: z.string() }),
  threshold: z.object({ value: z.number(), unit: z.string() }).optional(),
  description: z.string().optional(),
});
export type Sli = z.infer<typeof Sli>;

export const AlertSpec = z.object({
  disable: z.boolean().default(false),
  labels: z.record(z.string(), z.string()).default({}),
  annotations: z.record(z.string(), z.string()).default({}),
  /** Prometheus `for:` duration; unset means the alert fires on the first evaluation (Sloth's behaviour). */
  for: z.string().optional(),
});
export type AlertSpec = z.infer<typeof AlertSpec>;

/**
 * The internal SLO model the generators take. Queries follow Sloth's conventions: `{{.window}}` stands for
 * the range of the rate window, so one model serves every alert window.
 */
export const Slo = z.object({
  id: z.string(),
  service: z.string(),
  name: z.string(),
  displayName: z.string().optional(),
  description: z.string().optional(),
  /** Where the SLO was read from: the spec format (`prometheus/v1`, `openslo/v1`, ...) and its place in the file. */
  origin: z
    .object({ spec: z.string(), file: z.string().optional(), line: z.number().int().optional() })
    .optional(),
  /** Percent, e.g. 99.9; 100 is allowed (a zero error budget), as in Sloth. */
  objective: z.number().gt(0).lte(100),
  /** Prometheus duration, e.g. `30d`. */
  period: z.string().regex(/^\d+[smhdw]$/),
  sli: z.union([
    z.object({ events: z.object({ errorQuery: z.string(), totalQuery: z.string() }) }),
    z.object({ raw: z.object({ errorRatioQuery: z.string() }) }),
  ]),
  labels: z.record(z.string(), z.string()).default({}),
  /** Prometheus rule-group `interval` per group (Sloth's `interval: {slierror, metadata, alert}`); unset = global. */
  ruleIntervals: z
    .object({ sli: z.string().optional(), meta: z.string().optional(), alerts: z.string().optional() })
    .optional(),
  alerting: z
    .object({
      name: z.string().optional(),
      labels: z.record(z.string(), z.string()).default({}),
      annotations: z.record(z.string(), z.string()).default({}),
      page: AlertSpec.default({ disable: false, labels: {}, annotations: {} }),
      ticket: AlertSpec.default({ disable: false, labels: {}, annotations: {} }),
      /** No page when the long window holds fewer than this many events (events SLIs only). */
      minEvents: z.number().int().nonnegative().optional(),
    })
    .default({
      labels: {},
      annotations: {},
      page: { disable: false, labels: {}, annotations: {} },
      ticket: { disable: false, labels: {}, annotations: {} },
    }),
});
export type Slo = z.infer<typeof Slo>;

export const ConfidencePart = z.object({
  name: z.enum(["coverage", "volume", "stability", "seasonality", "agreement", "incident-dominance"]),
  score: z.number().min(0).max(1),
  weight: z.number().min(0),
  detail: z.string(),
});

export const Confidence = z.object({ score: z.number().min(0).max(1), parts: z.array(ConfidencePart) });
export type Confidence = z.infer<typeof Confidence>;
