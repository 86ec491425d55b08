import { formatDuration } from "../../core/duration.js";
import type { TelemetryEvent } from "../../core/telemetry.js";
import type { Bus } from "../bus/bus.js";
import { eventKey, TOPICS } from "../bus/bus.js";
import type { DecodeResult } from "./decode-result.js";
import type { IngestMetrics } from "./metrics.js";

/** Seconds a client is told to wait when a receiver is full; OTLP, remote_write and Fluent Bit retry then. */
export const RETRY_AFTER_SECONDS = 2;

/** The receiver cannot take the data now; the client should retry after `retryAfter` seconds. */
export class IngestUnavailableError extends Error {
  override name = "IngestUnavailableError";
  readonly retryAfter = RETRY_AFTER_SECONDS;
}

/**
 * A bounded buffer: how many events and body bytes one receiver holds between reading a request and the
 * bus acknowledging it. Past either bound the receiver refuses (503 + Retry-After) instead of growing.
 */
export class IngestGate {
  private events = 0;
  private bytes = 0;

  constructor(
    readonly maxEvents: number,
    readonly maxBytes: number,
  ) {}

  tryTakeBytes(n: number): boolean {
    // One request is always let in when nothing is held, so a body up to the size limit can pass.
    if (this.bytes > 0 && this.bytes + n > this.maxBytes) return false;
    this.bytes += n;
    return true;
  }

  releaseBytes(n: number): void {
    this.bytes = Math.max(0, this.bytes - n);
  }

  tryTakeEvents(n: number): boolean {
    if (this.events > 0 && this.events + n > this.maxEvents) return false;
    this.events += n;
    return true;
  }

  releaseEvents(n: number): void {
    this.events = Math.max(0, this.events - n);
  }

  get heldEvents(): number {
    return this.events;
  }
}

export interface IngestorOptions {
  /** Events one receiver may hold waiting for the bus (INGEST_BUFFER_EVENTS). */
  bufferEvents: number;
  /** Body bytes one receiver may hold while reading and decoding. */
  bufferBytes: number;
  metrics: IngestMetrics;
  /**
   * How far ahead of this server's clock an event may be dated (FUTURE_TOLERANCE): later ones are refused,
   * since one would move its service's watermark ahead and make every current event of it late.
   */
  futureToleranceMs?: number;
  /** This server's clock (epoch ms). */
  now?: () => number;
}

/** FUTURE_TOLERANCE's default: generous for NTP-synced hosts, far below a day-off clock. */
export const DEFAULT_FUTURE_TOLERANCE_MS = 5 * 60_000;

/**
 * The one way decoded telemetry reaches the bus, shared by every receiver and the CLI: count the
 * rejected records, hand the events to `raw-telemetry`, and only then report them accepted. When the
 * bus is saturated or down, or the receiver's buffer is full, it throws IngestUnavailableError and
 * nothing of the request is counted as accepted.
 */
export class Ingestor {
  private readonly gates = new Map<string, IngestGate>();

  constructor(
    readonly bus: Bus,
    readonly options: IngestorOptions,
  ) {}

  gate(receiver: string): IngestGate {
    let g = this.gates.get(receiver);
    if (!g) {
      g = new IngestGate(this.options.bufferEvents, this.options.bufferBytes);
      this.gates.set(receiver, g);
    }
    return g;
  }

  /** Why a new request should be refused before its body is even read, or undefined. */
  overloaded(receiver: string): string | undefined {
    const g = this.gate(receiver);
    if (g.heldEvents >= g.maxEvents) return `receiver ${receiver} is full`;
    return this.bus.saturated(TOPICS.rawTelemetry);
  }

  /**
   * `contentId` (see content-id.ts) names the request's content; its events are published as
   * `<contentId>:<index among the decoded events>`, numbered before any is refused as future-dated, so a
   * retry (which may refuse fewer, the clock having moved on) gives each event its first copy's id. It is
   * asked only of a durable bus (Kafka), where a refused publish may have partly landed; the in-process
   * bus takes a publish whole or not at all, so hashing the body there would buy nothing.
   */
  async hand(
    receiver: string,
    signal: string,
    result: DecodeResult,
    contentId?: () => string,
  ): Promise<void> {
    const { metrics } = this.options;
    const decoded = result.events;
    const future = refuseFuture(
      result,
      (this.options.now ?? Date.now)(),
      this.options.futureToleranceMs ?? DEFAULT_FUTURE_TOLERANCE_MS,
    );
    metrics.records(receiver, signal, "future", future);
    if (result.events.length === 0) {
      metrics.records(receiver, signal, "rejected", result.rejected - future);
      return;
    }
    const saturated = this.bus.saturated(TOPICS.rawTelemetry);
    if (saturated) throw new IngestUnavailableError(`${saturated}; retry later`);
    const gate = this.gate(receiver);
    const n = result.events.length;
    if (!gate.tryTakeEvents(n)) {
      throw new IngestUnavailableError(`receiver ${receiver} holds ${gate.heldEvents} events; retry later`);
    }
    try {
      await publishEvents(
        this.bus,
        result.events,
        contentId === undefined || !this.bus.durable
          ? undefined
          : eventIds(contentId(), decoded, result.events),
      );
    } catch (err) {
      throw new IngestUnavailableError(`the bus did not take the data: ${(err as Error).message}`);
    } finally {
      gate.releaseEvents(n);
    }
    // Counted only once the request is answered with success: a refused request is retried whole.
    metrics.records(receiver, signal, "accepted", result.accepted);
    metrics.records(receiver, signal, "rejected", result.rejected - future);
  }
}

/**
 * Moves the events dated more than `toleranceMs` after `now` from the result's events to its rejects, with
 * a reason the sender can act on (the answer carries it: OTLP partial success, Fluent Bit's counts); returns
 * how many. Spans, log records and RUM events drive their service's watermark; metric samples go to the
 * samples table, which has none, so they are left alone.
 */
export function refuseFuture(result: DecodeResult, now: number, toleranceMs: number): number {
  const limit = now + toleranceMs;
  let refused = 0;
  let ahead = 0;
  const kept = result.events.filter((e) => {
    if (e.kind === "metric" || e.time <= limit) return true;
    refused++;
    ahead = Math.max(ahead, e.time - now);
    return false;
  });
  if (refused === 0) return 0;
  result.events = kept;
  result.accepted = Math.max(0, result.accepted - refused);
  result.rejected += refused;
  const reason = `${refused} record(s) dated up to ${formatDuration(Math.round(ahead / 1000) * 1000)} ahead of the server's clock (more than FUTURE_TOLERANCE ${formatDuration(toleranceMs)}); check the sender's clock`;
  if (result.reasons.length < 5) result.reasons.push(reason);
  return refused;
}

/** `<contentId>:<i>` for each kept event, `i` its index among the decoded ones (`kept` is in their order). */
export function eventIds(contentId: string, decoded: TelemetryEvent[], kept: TelemetryEvent[]): string[] {
  const ids = new Array<string>(kept.length);
  let i = 0;
  for (let k = 0; k < kept.length; k++) {
    while (decoded[i] !== kept[k]) i++;
    ids[k] = `${contentId}:${(i++).toString(36)}`;
  }
  return ids;
}

/**
 * Publishes one request's events in one call, each keyed by `eventKey` (a trace's spans share a
 * partition) and with its id from `ids` when given. One call, because a bus takes a batch whole or not at
 * all; on Kafka a send can still fail after part of it was written, and the ids (derived from the request)
 * are what let the stream stage drop that part when the client retries.
 */
export function publishEvents(bus: Bus, events: TelemetryEvent[], ids?: string[]): Promise<void> {
  return bus.publish(
    TOPICS.rawTelemetry,
    ids
      ? events.map((value, i) => ({ key: eventKey(value), value, id: ids[i]! }))
      : events.map((value) => ({ key: eventKey(value), value })),
  );
}
