import type { TelemetryEvent } from "../../core/telemetry.js";

/**
 * What a decoder made of one request: the events to publish plus the records it had to refuse and why.
 * A record is the protocol's unit (a span, a log record, a data point, a sample, a Fluent Bit record, a
 * Faro item); one record can become several events (an OTLP histogram point becomes its buckets).
 */
export interface DecodeResult {
  events: TelemetryEvent[];
  accepted: number;
  rejected: number;
  /** A few distinct reasons, enough to tell a sender what to fix without echoing every record. */
  reasons: string[];
}

/** The whole body is unusable (not a syntax error in one record): the receiver answers 400. */
export class MalformedBodyError extends Error {
  override name = "MalformedBodyError";
  readonly statusCode = 400;
}

const MAX_REASONS = 5;

/** Collects rejected records and their reasons while a decoder walks a body. */
export class RejectLog {
  rejected = 0;
  readonly reasons: string[] = [];

  reject(reason: string, count = 1): void {
    this.rejected += count;
    if (this.reasons.length < MAX_REASONS && !this.reasons.includes(reason)) this.reasons.push(reason);
  }

  /** Adds the rejects of a nested decode (Faro's embedded OTLP traces). */
  merge(other: Pick<DecodeResult, "rejected" | "reasons">): void {
    this.rejected += other.rejected;
    for (const r of other.reasons) {
      if (this.reasons.length < MAX_REASONS && !this.reasons.includes(r)) this.reasons.push(r);
    }
  }
}

/** One line a client can read: how many records were refused and the first reasons. */
export function describeRejects(result: Pick<DecodeResult, "rejected" | "reasons">): string {
  if (result.rejected === 0) return "";
  return `${result.rejected} record(s) rejected: ${result.reasons.join("; ")}`;
}
