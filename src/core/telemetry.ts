import { z } from "zod";

/** Attribute values as OTLP and Prometheus carry them, flattened to scalars. */
export const AttributeValue = z.union([z.string(), z.number(), z.boolean()]);
export const Attributes = z.record(z.string(), AttributeValue);
export type Attributes = z.infer<typeof Attributes>;

export const Severity = z.enum(["trace", "debug", "info", "warn", "error", "fatal"]);
export type Severity = z.infer<typeof Severity>;

/** Epoch milliseconds; fractions carry sub-millisecond precision where a source has it. */
const EpochMs = z.number().finite().nonnegative();

export const SpanKind = z.enum(["internal", "server", "client", "producer", "consumer"]);
export type SpanKind = z.infer<typeof SpanKind>;

export const SpanEvent = z.object({ name: z.string(), time: EpochMs, attributes: Attributes.default({}) });

export const Span = z.object({
  traceId: z.string().regex(/^[0-9a-f]{32}$/, "traceId must be 32 lowercase hex characters"),
  spanId: z.string().regex(/^[0-9a-f]{16}$/, "spanId must be 16 lowercase hex characters"),
  parentSpanId: z
    .string()
    .regex(/^[0-9a-f]{16}$/)
    .optional(),
  name: z.string(),
  kind: SpanKind,
  startTime: EpochMs,
  endTime: EpochMs,
  status: z.enum(["unset", "ok", "error"]),
  statusMessage: z.string().optional(),
  attributes: Attributes.default({}),
  events: z.array(SpanEvent).default([]),
});
export type Span = z.infer<typeof Span>;

export const MetricType = z.enum(["counter", "gauge", "histogram", "summary", "unknown"]);

/** One Prometheus-style series and its samples; OTLP histograms arrive already split into _bucket/_sum/_count. */
export const MetricSeries = z.object({
  name: z.string().regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/, "metric name must match [a-zA-Z_:][a-zA-Z0-9_:]*"),
  type: MetricType.default("unknown"),
  labels: z.record(z.string(), z.string()).default({}),
  samples: z.array(z.object({ time: EpochMs, value: z.number() })).min(1),
});
export type MetricSeries = z.infer<typeof MetricSeries>;

export const LogRecord = z.object({
  body: z.string(),
  severity: Severity.default("info"),
  severityText: z.string().optional(),
  traceId: z.string().optional(),
  spanId: z.string().optional(),
  attributes: Attributes.default({}),
});
export type LogRecord = z.infer<typeof LogRecord>;

export const RumEvent = z.object({
  type: z.enum(["measurement", "exception", "log", "event", "page"]),
  page: z.string().optional(),
  name: z.string(),
  values: z.record(z.string(), z.number()).default({}),
  message: z.string().optional(),
  sessionId: z.string().optional(),
  traceId: z.string().optional(),
});
export type RumEvent = z.infer<typeof RumEvent>;

const base = {
  schemaVersion: z.literal(1),
  service: z.string().min(1, "service must not be empty"),
  time: EpochMs,
  /** Resource attributes (OTLP resource, Prometheus external labels, Fluent Bit record keys). */
  attributes: Attributes.default({}),
};

/** The one record every receiver produces and every pipeline stage consumes. */
export const TelemetryEvent = z.discriminatedUnion("kind", [
  z.object({ ...base, kind: z.literal("span"), span: Span }),
  z.object({ ...base, kind: z.literal("metric"), metric: MetricSeries }),
  z.object({ ...base, kind: z.literal("log"), log: LogRecord }),
  z.object({ ...base, kind: z.literal("rum"), rum: RumEvent }),
]);
export type TelemetryEvent = z.infer<typeof TelemetryEvent>;
export type TelemetryKind = TelemetryEvent["kind"];
