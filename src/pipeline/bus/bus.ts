import type { TelemetryEvent } from "../../core/telemetry.js";

/** Topics every stage speaks; a stage only publishes or consumes these. */
export const TOPICS = { rawTelemetry: "raw-telemetry", capsuleEvents: "capsule-events" } as const;
export type Topic = (typeof TOPICS)[keyof typeof TOPICS];

/**
 * The partition key of a `raw-telemetry` event: a span's trace id, so every span of a trace reaches the
 * worker that assembles it (its services' spans would otherwise land on several workers); the service for
 * everything else, so one service's log lines stay in order. Windows that several workers may touch are
 * written by adding to the stored row (see src/pipeline/window-writes.ts).
 */
export function eventKey(event: TelemetryEvent): string {
  return event.kind === "span" ? event.span.traceId : event.service;
}

export interface BusMessage<T = unknown> {
  /** Partition key: messages with one key stay in order on one partition, so they reach one worker. */
  key: string;
  value: T;
  /**
   * The message's id, when the publisher derives it from what the message carries (a receiver: its
   * request's content, see src/pipeline/receivers/content-id.ts), so publishing the same content again
   * gives the same id and the stream stage drops the copy (see ConsumedMessage.id). Without one, Kafka
   * numbers the message itself; the in-process bus ignores it.
   */
  id?: string;
}

export interface ConsumedMessage<T = unknown> extends BusMessage<T> {
  /**
   * Position in the partition, increasing (a decimal string, as Kafka's). A consumer that stores its
   * effects together with the last offset it applied can skip redelivered messages: exactly-once effect.
   */
  offset: string;
  /**
   * The id the publisher gave the message (Kafka: the `slo-scout-id` header): a producer that resends a
   * request (kafkajs resends all of it when one partition failed) can write one message twice, at two
   * offsets, and a client that retries a request the receiver refused after part of it was written
   * publishes its events again; the id is what shows the second is the first again. The in-process bus
   * gives none: it takes a publish whole or not at all and never writes a message twice, so a refused
   * publish left nothing to duplicate (and its spool replays a message at its own offset).
   */
  id?: string;
}

export interface BusBatch<T = unknown> {
  topic: string;
  partition: number;
  messages: ConsumedMessage<T>[];
}

/**
 * A bus delivers at least once: a consumer's offset is committed only after its handler resolves, so a
 * handler must be idempotent.
 */
export interface Bus {
  /**
   * True when messages and committed offsets outlive this process (Kafka). An in-process bus starts over
   * at offset 0 after a restart, so offsets a consumer stored for it mean nothing to the next process.
   */
  readonly durable: boolean;
  /**
   * Resolves once the messages are accepted (in-process: queued; Kafka: acknowledged). Rejects with
   * BusSaturatedError when the buffer is full, and with the cause when a value does not fit the topic's
   * schema or Kafka refuses it.
   */
  publish<T>(topic: string, messages: BusMessage<T>[]): Promise<void>;
  subscribe<T>(
    topic: string,
    group: string,
    handler: (batch: BusBatch<T>) => Promise<void>,
  ): Promise<Subscription>;
  /**
   * Why the bus cannot take more right now (on `topic`, or on any topic), or undefined when it can;
   * receivers answer 503 + Retry-After with the reason. A full topic nobody reads (capsule-events on the
   * in-process bus) must not stop ingest.
   */
  saturated(topic?: string): string | undefined;
  /**
   * Present on a bus that keeps every message until its consumer releases it and gives the unreleased
   * ones again after a restart (the in-process bus with its spool): the consumer's effects of messages
   * below `nextOffset` on the partition are stored, so they may be forgotten.
   */
  release?(topic: string, partition: number, nextOffset: number): void;
  /** In-process: waits until every subscribed group has handled what was published. Kafka: sends what waits. */
  flush(): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface Subscription {
  stop(): Promise<void>;
}

/** Publish refused because the bus's buffer is full; the caller should answer 503 and let the client retry. */
export class BusSaturatedError extends Error {
  override name = "BusSaturatedError";
}

/** Publish or subscribe after `close()`. */
export class BusClosedError extends Error {
  override name = "BusClosedError";
}
