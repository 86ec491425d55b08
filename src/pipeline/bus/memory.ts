import type { Bus, BusBatch, BusMessage, ConsumedMessage, Subscription } from "./bus.js";
import { BusClosedError, BusSaturatedError } from "./bus.js";
import type { Spool, SpoolMessage } from "./spool.js";

/**
 * In-process topics with Kafka's semantics, so code written against this bus behaves the same on Kafka:
 * messages are spread over partitions by key hash and one partition is handled by one consumer at a time
 * (one key stays in order); each consumer group gets every message; a group's offset moves only after
 * its handler resolves, so a throw redelivers the batch (at least once). Values pass by reference:
 * handlers must not mutate them, since other groups see the same objects.
 */

export interface MemoryBusOptions {
  partitions?: number;
  /** Unconsumed messages a topic may hold; at this level `saturated()` says so and publish refuses. */
  capacity?: number;
  /** Most messages handed to one handler call. */
  maxBatch?: number;
  /** Wait before redelivering a batch whose handler threw. */
  retryDelayMs?: number;
  onError?: (err: unknown, where: { topic: string; group: string; partition: number }) => void;
  /**
   * A write-ahead spool for one topic: a publish resolves once its batch is on disk, the topic's offsets
   * continue the spool's, `messages` (what the spool held at open) are given again to a new group, and
   * `release` lets the spool forget what the consumer stored. The bus is then `durable`.
   */
  spooled?: { topic: string; spool: Spool; messages: SpoolMessage[] };
}

type Handler = (batch: BusBatch<unknown>) => Promise<void>;

interface Member {
  handler: Handler;
  running: Set<Promise<void>>;
}

interface Group {
  /** Next offset to deliver, per partition: everything before it is committed. */
  committed: number[];
  busy: boolean[];
  /** Partitions whose last delivery threw (the consumer could not store it: a store is down). */
  failing: boolean[];
  members: Member[];
}

interface Topic {
  name: string;
  /** Retained messages per partition; `base[p]` is the offset of `logs[p][0]`. */
  logs: BusMessage<unknown>[][];
  base: number[];
  groups: Map<string, Group>;
}

/** FNV-1a: cheap, stable across runs, spreads short keys like service names well. */
export function partitionFor(key: string, partitions: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % partitions;
}

export class MemoryBus implements Bus {
  readonly durable: boolean;
  private readonly topics = new Map<string, Topic>();
  private readonly partitions: number;
  private readonly capacity: number;
  private readonly maxBatch: number;
  private readonly retryDelayMs: number;
  private readonly onError: NonNullable<MemoryBusOptions["onError"]>;
  private readonly timers = new Set<NodeJS.Timeout>();
  private drainWaiters: Array<() => void> = [];
  private closed = false;

  constructor(options: MemoryBusOptions = {}) {
    this.partitions = options.partitions ?? 4;
    this.capacity = options.capacity ?? 100_000;
    this.maxBatch = options.maxBatch ?? 500;
    this.retryDelayMs = options.retryDelayMs ?? 200;
    this.onError = options.onError ?? (() => {});
    this.spooled = options.spooled;
    this.durable = this.spooled !== undefined;
    if (this.spooled) {
      const { topic, spool } = this.spooled;
      this.restore(this.spooled);
      const released: number[] = [];
      this.release = (name, partition, nextOffset) => {
        if (name !== topic) return;
        released[partition] = Math.max(released[partition] ?? 0, nextOffset);
        spool.release(Array.from({ length: this.partitions }, (_, p) => released[p] ?? 0));
      };
    }
  }

  private readonly spooled: MemoryBusOptions["spooled"];
  /** Only with a spool (see Bus.release). */
  readonly release?: (topic: string, partition: number, nextOffset: number) => void;

  /**
   * The spooled topic starts where the spool left off: its messages per partition, back to the oldest it
   * still holds, when they run without a gap up to the spool's next offset (else that partition's start
   * is lost history from another spool, and it starts empty at the next offset).
   */
  private restore({ topic, spool, messages }: NonNullable<MemoryBusOptions["spooled"]>): void {
    const t = this.topic(topic);
    const next = spool.nextOffsets;
    for (let p = 0; p < this.partitions; p++) {
      const held = messages.filter((m) => m.partition === p);
      const contiguous =
        held.length > 0 &&
        held.at(-1)!.offset === next[p]! - 1 &&
        held.every((m, i) => i === 0 || m.offset === held[i - 1]!.offset + 1);
      t.base[p] = contiguous ? held[0]!.offset : next[p]!;
      t.logs[p] = contiguous ? held.map((m) => ({ key: m.key, value: m.value })) : [];
    }
  }

  async publish<T>(topic: string, messages: BusMessage<T>[]): Promise<void> {
    if (this.closed) throw new BusClosedError("bus is closed");
    const t = this.topic(topic);
    // A batch is accepted whole or not at all, so a client's retry never duplicates half of it.
    if (this.pending(t) >= this.capacity) {
      throw new BusSaturatedError(`topic ${topic} holds ${this.pending(t)} unconsumed messages`);
    }
    if (this.stalled(t)) throw new BusSaturatedError(`the consumer of topic ${topic} is failing`);
    if (this.spooled?.topic === topic) {
      await this.spooled.spool.append(
        messages.map((m) => ({
          partition: partitionFor(m.key, this.partitions),
          key: m.key,
          value: m.value,
        })),
        (stored) => {
          for (const m of stored) t.logs[m.partition]!.push({ key: m.key, value: m.value });
          this.pump(t);
        },
      );
      return;
    }
    for (const m of messages) {
      t.logs[partitionFor(m.key, this.partitions)]!.push({ key: m.key, value: m.value });
    }
    this.pump(t);
  }

  async subscribe<T>(
    topic: string,
    group: string,
    handler: (batch: BusBatch<T>) => Promise<void>,
  ): Promise<Subscription> {
    if (this.closed) throw new BusClosedError("bus is closed");
    const t = this.topic(topic);
    let g = t.groups.get(group);
    if (!g) {
      // A new group starts at the oldest retained message, like Kafka's fromBeginning.
      g = {
        committed: [...t.base],
        busy: t.base.map(() => false),
        failing: t.base.map(() => false),
        members: [],
      };
      t.groups.set(group, g);
    }
    const member: Member = { handler: handler as Handler, running: new Set() };
    g.members.push(member);
    this.pump(t);
    const grp = g;
    return {
      stop: async () => {
        const i = grp.members.indexOf(member);
        if (i >= 0) grp.members.splice(i, 1);
        await Promise.allSettled([...member.running]);
        this.pump(t);
      },
    };
  }

  saturated(topic?: string): string | undefined {
    for (const t of this.topics.values()) {
      if (topic !== undefined && t.name !== topic) continue;
      if (this.stalled(t)) return `the consumer of topic ${t.name} is failing`;
      const pending = this.pending(t);
      if (pending >= this.capacity)
        return `${pending} messages on ${t.name} wait for the stream stage (INGEST_BUFFER_EVENTS ${this.capacity})`;
    }
    return undefined;
  }

  /** Resolves once every group that has a consumer has handled every message published so far. */
  flush(): Promise<void> {
    if (this.drained()) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  async ping(): Promise<void> {
    if (this.closed) throw new BusClosedError("bus is closed");
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    const running: Promise<void>[] = [];
    for (const t of this.topics.values()) {
      for (const g of t.groups.values()) {
        for (const m of g.members) running.push(...m.running);
        g.members = [];
      }
    }
    await Promise.allSettled(running);
    await this.spooled?.spool.close();
    this.wakeDrainWaiters(true);
  }

  private topic(name: string): Topic {
    let t = this.topics.get(name);
    if (!t) {
      t = {
        name,
        logs: Array.from({ length: this.partitions }, () => []),
        base: Array.from({ length: this.partitions }, () => 0),
        groups: new Map(),
      };
      this.topics.set(name, t);
    }
    return t;
  }

  private pending(t: Topic): number {
    let n = 0;
    for (const log of t.logs) n += log.length;
    return n;
  }

  /**
   * True while a consumer's handler keeps failing on the topic. What this bus holds lives only in this
   * process's memory, so it takes no more until the consumer stores again: receivers answer 503 and
   * clients keep the data and retry, instead of an outage growing a backlog that a crash would lose.
   */
  private stalled(t: Topic): boolean {
    for (const g of t.groups.values()) {
      if (g.members.length > 0 && g.failing.includes(true)) return true;
    }
    return false;
  }

  private pump(t: Topic): void {
    if (this.closed) return;
    for (const [groupName, g] of t.groups) {
      if (g.members.length === 0) continue;
      for (let p = 0; p < this.partitions; p++) {
        const end = t.base[p]! + t.logs[p]!.length;
        if (g.busy[p] || g.committed[p]! >= end) continue;
        this.deliver(t, groupName, g, p);
      }
    }
    this.trim(t);
    this.wakeDrainWaiters(false);
  }

  private deliver(t: Topic, groupName: string, g: Group, p: number): void {
    // Partitions are spread over the group's members; one partition is never handled concurrently.
    const member = g.members[p % g.members.length]!;
    const from = g.committed[p]!;
    const start = from - t.base[p]!;
    const slice = t.logs[p]!.slice(start, start + this.maxBatch);
    const messages: ConsumedMessage<unknown>[] = slice.map((m, i) => ({
      key: m.key,
      value: m.value,
      offset: String(from + i),
    }));
    g.busy[p] = true;
    const run = (async () => {
      try {
        await member.handler({ topic: t.name, partition: p, messages });
        g.committed[p] = from + messages.length;
        g.failing[p] = false;
        g.busy[p] = false;
        this.pump(t);
      } catch (err) {
        g.failing[p] = true;
        this.onError(err, { topic: t.name, group: groupName, partition: p });
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          g.busy[p] = false;
          this.pump(t);
        }, this.retryDelayMs);
        this.timers.add(timer);
      }
    })();
    member.running.add(run);
    void run.finally(() => member.running.delete(run));
  }

  /** Drops messages every group has committed; with no group yet, messages wait for one. */
  private trim(t: Topic): void {
    if (t.groups.size === 0) return;
    for (let p = 0; p < this.partitions; p++) {
      let low = Number.POSITIVE_INFINITY;
      for (const g of t.groups.values()) low = Math.min(low, g.committed[p]!);
      const drop = low - t.base[p]!;
      if (drop > 0) {
        t.logs[p]!.splice(0, drop);
        t.base[p] = low;
      }
    }
  }

  private drained(): boolean {
    for (const t of this.topics.values()) {
      for (const g of t.groups.values()) {
        if (g.members.length === 0) continue;
        for (let p = 0; p < this.partitions; p++) {
          if (g.committed[p]! < t.base[p]! + t.logs[p]!.length) return false;
        }
      }
    }
    return true;
  }

  private wakeDrainWaiters(force: boolean): void {
    if (this.drainWaiters.length === 0 || (!force && !this.drained())) return;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
  }
}
