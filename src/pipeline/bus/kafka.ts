import { randomBytes } from "node:crypto";
import {
  type Admin,
  CompressionTypes,
  type Consumer,
  type ConsumerConfig,
  Kafka,
  type logCreator,
  logLevel,
  Partitioners,
  type Producer,
  type ProducerConfig,
} from "kafkajs";
import type { Logger } from "pino";
import { codecFor } from "./avro.js";
import { BacklogMonitor } from "./backlog.js";
import type { Bus, BusBatch, BusMessage, ConsumedMessage, Subscription } from "./bus.js";
import { BusClosedError, BusSaturatedError } from "./bus.js";

/**
 * Kafka via kafkajs. Producer: messages wait up to `lingerMs` to be sent together in one GZIP-compressed
 * `sendBatch` (acks from all in-sync replicas), keyed by the message key so one key stays on one
 * partition (kafkajs's default partitioner is Java-compatible murmur2). Consumer: one kafkajs consumer per
 * subscription in the named group, `eachBatch` with auto-commit off; the offset is committed only after the
 * handler resolves, so a crash or a throw redelivers (at least once). A topic is created with `partitions`
 * partitions the first time it is used, rather than by the broker's auto-creation, whose partition count
 * is a broker setting the pipeline's workers cannot see.
 */

export type BusLogger = Pick<Logger, "error" | "warn" | "info" | "debug">;

/** The parts of kafkajs this adapter uses; tests pass a fake. */
export interface KafkaClient {
  producer(config?: ProducerConfig): Pick<Producer, "connect" | "disconnect" | "sendBatch">;
  consumer(
    config: ConsumerConfig,
  ): Pick<Consumer, "connect" | "disconnect" | "subscribe" | "run" | "commitOffsets">;
  admin(): Pick<
    Admin,
    | "connect"
    | "disconnect"
    | "describeCluster"
    | "listTopics"
    | "createTopics"
    | "fetchTopicOffsets"
    | "fetchOffsets"
  >;
}

export interface KafkaBusOptions {
  brokers: string[];
  clientId?: string;
  /** How long a message may wait for others to share its request. */
  lingerMs?: number;
  /** A pending batch this large is sent at once, without waiting for the linger. */
  maxBatchMessages?: number;
  /** Messages accepted but not yet acknowledged by Kafka; at this level `saturated()` refuses. */
  capacity?: number;
  /** Partitions of a topic this bus creates: the most pipeline workers one consumer group can use. */
  partitions?: number;
  /**
   * A consumer group's backlog on a topic past which `saturated(topic)` refuses: the receivers then answer
   * 503 + Retry-After until the group's workers catch up (see BacklogMonitor). Measured with the admin
   * client every second, from the first `saturated(topic)` on, so a process that only consumes never
   * measures.
   */
  maxBacklog?: { topic: string; group: string; messages: number };
  /** Prefix of every topic's name on the cluster, so several deployments (or test runs) can share one. */
  topicPrefix?: string;
  /** Partitions of one subscription handled at once (each still in order). */
  partitionsConsumedConcurrently?: number;
  onError?: (err: unknown, where: { topic: string; group?: string; partition?: number }) => void;
  /** Where kafkajs's own warnings and errors go (retries, reconnects); by default its console logger. */
  logger?: BusLogger;
  /** Injected client (tests); by default a kafkajs `Kafka` on `brokers`. */
  client?: KafkaClient;
}

/**
 * kafkajs's retry budget for sends, admin requests and every connection, given in full so its NODE_ENV=test
 * defaults (15 retries) never apply. Its retries nest (a send retries, and every try reconnects with
 * retries of its own), so with the broker gone this is what bounds a publish: it is refused within about a
 * second and the receivers answer 503 + Retry-After, instead of holding the request for minutes. Being
 * bounded, a failed send is over when the publish is refused, so it cannot land later beside the client's
 * retry of it (a timer in front of the send could not cancel it). For the same reason the producer is not
 * kafkajs's idempotent one: that one retries without end, and limiting its retries voids its guarantee.
 */
const RETRY = { retries: 2, initialRetryTime: 100, maxRetryTime: 1000, multiplier: 2, factor: 0.2 };
/**
 * A consumer has no client waiting on it: a failing fetch, handler or commit is retried with kafkajs's
 * production defaults (about 10 s) before kafkajs restarts the consumer, which makes it rejoin its group.
 */
const CONSUMER_RETRY = {
  retries: 5,
  initialRetryTime: 300,
  maxRetryTime: 30_000,
  multiplier: 2,
  factor: 0.2,
};

/**
 * The header carrying a message's id (see ConsumedMessage.id): the one the publisher gave (BusMessage.id,
 * derived from a receiver's request content, so a client's retry carries its first copy's ids), else this
 * bus's random prefix (72 bits, so two buses, in any processes, share one with a negligible chance) and a
 * counter — half a UUID's length, as consumers keep many of them in memory.
 */
export const MESSAGE_ID_HEADER = "slo-scout-id";

const LOG_METHODS = {
  [logLevel.NOTHING]: undefined,
  [logLevel.ERROR]: "error",
  [logLevel.WARN]: "warn",
  [logLevel.INFO]: "info",
  [logLevel.DEBUG]: "debug",
} as const;

/** kafkajs's log lines through the process's logger, so its level applies to them too. */
function logCreatorFor(logger: BusLogger): logCreator {
  // pino stamps its own time, so kafkajs's timestamp is left out.
  return () =>
    ({ namespace, level, log: { message, timestamp: _timestamp, ...fields } }) => {
      const method = LOG_METHODS[level];
      if (method) logger[method]({ kafkajs: namespace, ...fields }, message);
    };
}

/**
 * Messages per `sendBatch`: kafkajs groups a send's messages by partition copying the partition's list for
 * every message (producer/groupMessagesPerPartition.js), quadratic in the send's size, and one send of the
 * thousands of events a linger gathers under load (or of the capsule events of a large batch) cost more
 * CPU and garbage than encoding and compressing them, and held the event loop for seconds. Sends are made
 * of whole publishes, so a receiver's request (up to this many records) is not half written when a send
 * fails and its client retries it; only a larger publish is split.
 */
const SEND_CHUNK = 1000;

/** A publish of more than SEND_CHUNK messages as several, settled together. */
function splitPending(p: Pending): Pending[] {
  if (p.messages.length <= SEND_CHUNK) return [p];
  const parts: Pending[] = [];
  for (let i = 0; i < p.messages.length; i += SEND_CHUNK) {
    parts.push({ ...p, messages: p.messages.slice(i, i + SEND_CHUNK) });
  }
  let left = parts.length;
  let failed = false;
  return parts.map((part) => ({
    ...part,
    resolve: () => {
      if (--left === 0 && !failed) p.resolve();
    },
    reject: (err: unknown) => {
      if (!failed) p.reject(err);
      failed = true;
    },
  }));
}

/** How often a batch in the handler tells the group coordinator that this member is alive (kafkajs's own interval). */
const HEARTBEAT_MS = 3_000;

/** The group errors kafkajs's consumer recovers from by joining its group again. */
const REJOIN = new Set([
  "UNKNOWN_MEMBER_ID",
  "REBALANCE_IN_PROGRESS",
  "ILLEGAL_GENERATION",
  "NOT_COORDINATOR_FOR_GROUP",
]);

/**
 * A commit refused because the group moved on (a batch outlasted the session timeout, a rebalance) comes
 * out of `consumer.commitOffsets` wrapped as non-retriable, which stops the consumer for good: the worker
 * would consume nothing more while /health says ok. Its protocol error, unwrapped, is what kafkajs's
 * consumer answers by joining the group again; the batch is then redelivered from the last committed
 * offset, and the stage skips what it already stored (its offsets are in the database).
 */
function groupError(err: unknown): unknown {
  for (let e = err as { type?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (e.type && REJOIN.has(e.type)) return e;
  }
  return err;
}

/** A header's value as kafkajs hands it over (a Buffer, or several when the header repeats) as text. */
function headerText(value: Buffer | string | (Buffer | string)[] | undefined): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}

interface Pending {
  topic: string;
  messages: { key: string; value: Buffer; headers: Record<string, string> }[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class KafkaBus implements Bus {
  readonly durable = true;
  private readonly client: KafkaClient;
  private readonly producer: ReturnType<KafkaClient["producer"]>;
  private readonly lingerMs: number;
  private readonly maxBatchMessages: number;
  private readonly capacity: number;
  private readonly concurrency: number;
  private readonly partitions: number;
  private readonly topicPrefix: string;
  private readonly topicsReady = new Map<string, Promise<void>>();
  private readonly onError: NonNullable<KafkaBusOptions["onError"]>;
  private producerReady: Promise<void> | undefined;
  private admin: ReturnType<KafkaClient["admin"]> | undefined;
  private adminReady: Promise<void> | undefined;
  private buffer: Pending[] = [];
  private buffered = 0;
  private inFlight = 0;
  private lastSend: Promise<void> = Promise.resolve();
  private readonly sends = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private readonly consumers = new Set<ReturnType<KafkaClient["consumer"]>>();
  private closed = false;
  private readonly idPrefix = `${randomBytes(9).toString("base64url")}:`;
  private published = 0;
  private readonly backlog: BacklogMonitor | undefined;
  private readonly backlogTopic: string | undefined;

  constructor(options: KafkaBusOptions) {
    this.client =
      options.client ??
      new Kafka({
        clientId: options.clientId ?? "slo-scout",
        brokers: options.brokers,
        retry: RETRY,
        // kafkajs's info level is a line per connection and group event.
        logLevel: logLevel.WARN,
        ...(options.logger ? { logCreator: logCreatorFor(options.logger) } : {}),
      });
    this.producer = this.client.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    this.lingerMs = options.lingerMs ?? 10;
    this.maxBatchMessages = options.maxBatchMessages ?? 1000;
    this.capacity = options.capacity ?? 100_000;
    this.concurrency = options.partitionsConsumedConcurrently ?? 4;
    this.partitions = options.partitions ?? 3;
    this.topicPrefix = options.topicPrefix ?? "";
    this.onError = options.onError ?? (() => {});
    const bound = options.maxBacklog;
    if (bound) {
      this.backlogTopic = bound.topic;
      this.backlog = new BacklogMonitor({
        topic: bound.topic,
        group: bound.group,
        max: bound.messages,
        measure: () => this.measureBacklog(bound.topic, bound.group),
        ...(options.logger ? { logger: options.logger } : {}),
      });
    }
  }

  publish<T>(topic: string, messages: BusMessage<T>[]): Promise<void> {
    if (this.closed) return Promise.reject(new BusClosedError("bus is closed"));
    if (this.inFlight >= this.capacity) {
      return Promise.reject(new BusSaturatedError(`${this.inFlight} messages wait for Kafka to acknowledge`));
    }
    if (messages.length === 0) return Promise.resolve();
    const codec = codecFor(topic);
    let encoded: Pending["messages"];
    try {
      encoded = messages.map((m) => ({
        key: m.key,
        value: codec.encode(m.value),
        headers: {
          "content-type": codec.contentType,
          [MESSAGE_ID_HEADER]: m.id ?? this.idPrefix + (this.published++).toString(36),
        },
      }));
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<void>((resolve, reject) => {
      this.buffer.push({ topic, messages: encoded, resolve, reject });
      this.buffered += encoded.length;
      this.inFlight += encoded.length;
      if (this.buffered >= this.maxBatchMessages) this.sendBuffered();
      else this.timer ??= setTimeout(() => this.sendBuffered(), this.lingerMs);
    });
  }

  async subscribe<T>(
    topic: string,
    group: string,
    handler: (batch: BusBatch<T>) => Promise<void>,
  ): Promise<Subscription> {
    if (this.closed) throw new BusClosedError("bus is closed");
    const codec = codecFor(topic);
    const name = await this.ensureTopic(topic);
    const consumer = this.client.consumer({ groupId: group, retry: CONSUMER_RETRY });
    await consumer.connect();
    this.consumers.add(consumer);
    await consumer.subscribe({ topics: [name], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.concurrency,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        if (batch.messages.length === 0 || !isRunning() || isStale()) return;
        const messages: ConsumedMessage<T>[] = [];
        for (const m of batch.messages) {
          try {
            const id = headerText(m.headers?.[MESSAGE_ID_HEADER]);
            messages.push({
              key: m.key?.toString("utf8") ?? "",
              value: codec.decode(m.value ?? Buffer.alloc(0)) as T,
              offset: m.offset,
              ...(id === undefined ? {} : { id }),
            });
          } catch (err) {
            // A message that cannot be decoded never will be; skipping it (and saying so) keeps the
            // partition moving instead of redelivering it forever.
            this.onError(err, { topic, group, partition: batch.partition });
          }
        }
        if (messages.length > 0) {
          // kafkajs heartbeats only between batches: a batch the stage takes longer than the session
          // timeout (30 s) over would cost this member its place in the group, and its commit with it.
          const beating = setInterval(() => void heartbeat().catch(() => {}), HEARTBEAT_MS);
          try {
            await handler({ topic, partition: batch.partition, messages });
          } finally {
            clearInterval(beating);
          }
        }
        const last = batch.messages[batch.messages.length - 1]!.offset;
        resolveOffset(last);
        try {
          await consumer.commitOffsets([
            { topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() },
          ]);
        } catch (err) {
          throw groupError(err);
        }
        await heartbeat();
      },
    });
    return {
      stop: async () => {
        if (!this.consumers.delete(consumer)) return;
        await consumer.disconnect();
      },
    };
  }

  saturated(topic?: string): string | undefined {
    if (this.inFlight >= this.capacity)
      return `${this.inFlight} messages wait for Kafka to acknowledge (INGEST_BUFFER_EVENTS ${this.capacity})`;
    if (!this.backlog || this.closed || (topic !== undefined && topic !== this.backlogTopic))
      return undefined;
    this.backlog.start();
    return this.backlog.over();
  }

  /**
   * The group's committed offsets subtracted from the topic's end offsets, over every partition; a
   * partition the group never committed counts from its first offset (the workers start from the
   * beginning).
   */
  private async measureBacklog(topic: string, group: string): Promise<number> {
    const name = await this.ensureTopic(topic);
    const admin = await this.connectedAdmin();
    const [ends, committed] = await Promise.all([
      admin.fetchTopicOffsets(name),
      admin.fetchOffsets({ groupId: group, topics: [name] }),
    ]);
    const next = new Map(
      (committed.find((t) => t.topic === name)?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]),
    );
    let behind = 0n;
    for (const p of ends) {
      const from = next.get(p.partition) ?? -1n;
      behind += BigInt(p.high) - (from >= 0n ? from : BigInt(p.low));
    }
    return Number(behind);
  }

  async flush(): Promise<void> {
    this.sendBuffered();
    while (this.sends.size > 0) await Promise.allSettled([...this.sends]);
  }

  async ping(): Promise<void> {
    if (this.closed) throw new BusClosedError("bus is closed");
    await (await this.connectedAdmin()).describeCluster();
  }

  private async connectedAdmin(): Promise<ReturnType<KafkaClient["admin"]>> {
    this.admin ??= this.client.admin();
    const admin = this.admin;
    this.adminReady ??= admin.connect().catch((err) => {
      this.adminReady = undefined;
      throw err;
    });
    await this.adminReady;
    return admin;
  }

  /** The topic's name on the cluster, created (once per process) if missing; a failure is retried next time. */
  private async ensureTopic(topic: string): Promise<string> {
    const name = this.topicPrefix + topic;
    let ready = this.topicsReady.get(name);
    if (!ready) {
      ready = (async () => {
        const admin = await this.connectedAdmin();
        // Asked first because kafkajs logs an error for creating a topic that exists (it then resolves false).
        if ((await admin.listTopics()).includes(name)) return;
        await admin.createTopics({
          topics: [{ topic: name, numPartitions: this.partitions }],
          waitForLeaders: true,
        });
      })();
      this.topicsReady.set(name, ready);
      ready.catch(() => this.topicsReady.delete(name));
    }
    await ready;
    return name;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    this.backlog?.stop();
    const consumers = [...this.consumers];
    this.consumers.clear();
    await Promise.allSettled(consumers.map((c) => c.disconnect()));
    if (this.producerReady) await this.producer.disconnect().catch(() => {});
    if (this.adminReady && this.admin) await this.admin.disconnect().catch(() => {});
  }

  private sendBuffered(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.buffer.length === 0) return;
    const groups: Pending[][] = [];
    let size = SEND_CHUNK;
    for (const p of this.buffer.flatMap(splitPending)) {
      if (size + p.messages.length > SEND_CHUNK) {
        groups.push([]);
        size = 0;
      }
      groups.at(-1)!.push(p);
      size += p.messages.length;
    }
    this.buffer = [];
    this.buffered = 0;
    for (const group of groups) this.sendGroup(group);
  }

  /** One `sendBatch` for the publishes of `group`, each resolved or rejected with it. */
  private sendGroup(group: Pending[]): void {
    const count = group.reduce((n, p) => n + p.messages.length, 0);
    const byTopic = new Map<string, Pending["messages"]>();
    for (const p of group) {
      const list = byTopic.get(p.topic) ?? [];
      list.push(...p.messages);
      byTopic.set(p.topic, list);
    }
    // One send at a time, in publish order: sends started together compress (GZIP, asynchronously) side by
    // side and can reach the broker out of order, and the stream stage's results depend on the order of a
    // partition's messages (template mining, watermarks).
    const send = this.lastSend.then(async () => {
      try {
        this.producerReady ??= this.producer.connect().catch((err) => {
          this.producerReady = undefined;
          throw err;
        });
        await this.producerReady;
        await Promise.all([...byTopic.keys()].map((topic) => this.ensureTopic(topic)));
        await this.producer.sendBatch({
          acks: -1,
          compression: CompressionTypes.GZIP,
          topicMessages: [...byTopic].map(([topic, messages]) => ({
            topic: this.topicPrefix + topic,
            messages,
          })),
        });
        for (const p of group) p.resolve();
      } catch (err) {
        this.onError(err, { topic: [...byTopic.keys()].join(",") });
        for (const p of group) p.reject(err);
      } finally {
        this.inFlight -= count;
      }
    });
    this.lastSend = send;
    this.sends.add(send);
    void send.finally(() => this.sends.delete(send));
  }
}
