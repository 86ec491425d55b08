import { randomUUID } from "node:crypto";
import { type ConnectionOptions, type Job, Queue, QueueEvents, Worker } from "bullmq";
import { Redis } from "ioredis";
import type { JobInfo, JobOptions, JobQueue } from "./ports.js";
import { DEFAULT_ATTEMPTS, DEFAULT_BACKOFF_MS } from "./queue-memory.js";

/**
 * BullMQ on Redis. One BullMQ queue per job name so each name gets its own worker concurrency; attempts
 * with exponential backoff; the caller's job id becomes BullMQ's job id, which de-duplicates. BullMQ keeps
 * a finished job under its id (and would then ignore a new one), so `add` removes a finished job first:
 * de-duplication holds while a job waits or runs, as the port says.
 */

export interface BullQueueOptions {
  url: string;
  /** Redis key prefix; a deployment (or a test) uses its own to share a Redis. */
  prefix?: string;
  /** Finished jobs kept this long for result(). */
  keepFinishedSeconds?: number;
  onError?: (err: unknown, where: { queue: string }) => void;
}

/** BullMQ refuses ids that are integers or contain ":"; an encoded, prefixed id is neither. */
const toBullId = (id: string) => `j-${encodeURIComponent(id)}`;
const fromBullId = (id: string | undefined) =>
  id?.startsWith("j-") ? decodeURIComponent(id.slice(2)) : (id ?? "");

export class BullQueue implements JobQueue {
  private readonly connection: ConnectionOptions;
  private readonly prefix: string;
  private readonly keepFinishedSeconds: number;
  private readonly onError: NonNullable<BullQueueOptions["onError"]>;
  private readonly queues = new Map<string, { queue: Queue; events: QueueEvents }>();
  private readonly workers = new Map<string, Worker>();
  /** Which queue each id added here went to, so result() need not search. */
  private readonly nameOf = new Map<string, string>();
  private readonly pinger: Redis;
  private closed = false;

  constructor(options: BullQueueOptions) {
    // Workers block on Redis; BullMQ requires unlimited per-request retries on their connections.
    this.connection = { url: options.url, maxRetriesPerRequest: null };
    this.prefix = options.prefix ?? "slo-scout";
    this.keepFinishedSeconds = options.keepFinishedSeconds ?? 3600;
    this.onError = options.onError ?? (() => {});
    this.pinger = new Redis(options.url, {
      lazyConnect: true,
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
    });
    this.pinger.on("error", () => {});
  }

  async add<T>(name: string, data: T, options: JobOptions = {}): Promise<string> {
    if (this.closed) throw new Error("job queue is closed");
    const { queue } = this.open(name);
    const id = options.jobId ?? randomUUID();
    const bullId = toBullId(id);
    const existing = await queue.getJob(bullId);
    if (existing) {
      const state = await existing.getState();
      if (state !== "completed" && state !== "failed" && state !== "unknown") {
        this.nameOf.set(id, name);
        return id;
      }
      await existing.remove().catch(() => {});
    }
    await queue.add(name, data, {
      jobId: bullId,
      attempts: Math.max(1, options.attempts ?? DEFAULT_ATTEMPTS),
      backoff: { type: "exponential", delay: options.backoffMs ?? DEFAULT_BACKOFF_MS },
      removeOnComplete: { age: this.keepFinishedSeconds },
      removeOnFail: { age: this.keepFinishedSeconds },
    });
    this.nameOf.set(id, name);
    return id;
  }

  process<T, R>(name: string, handler: (job: JobInfo<T>) => Promise<R>, concurrency = 1): void {
    if (this.closed) throw new Error("job queue is closed");
    if (this.workers.has(name)) throw new Error(`a worker for jobs named "${name}" is already registered`);
    const worker = new Worker(
      name,
      (job: Job) =>
        handler({
          id: fromBullId(job.id),
          name: job.name,
          data: job.data as T,
          attemptsMade: job.attemptsMade,
        }),
      { connection: this.connection, prefix: this.prefix, concurrency: Math.max(1, concurrency) },
    );
    worker.on("error", (err) => this.onError(err, { queue: name }));
    this.workers.set(name, worker);
  }

  async result<R>(jobId: string, timeoutMs = 30_000): Promise<R> {
    const bullId = toBullId(jobId);
    const known = this.nameOf.get(jobId);
    const names = known ? [known] : [...this.queues.keys()];
    for (const name of names) {
      const { queue, events } = this.open(name);
      const job = await queue.getJob(bullId);
      if (!job) continue;
      try {
        return (await job.waitUntilFinished(events, timeoutMs)) as R;
      } catch (err) {
        const message = (err as Error).message;
        if (/timed out before finishing/.test(message)) {
          throw new Error(`job ${jobId} did not finish within ${timeoutMs}ms`);
        }
        throw err;
      }
    }
    throw new Error(`no job with id ${jobId}`);
  }

  async ping(): Promise<void> {
    if (this.closed) throw new Error("job queue is closed");
    if (this.pinger.status === "wait") await this.pinger.connect();
    const reply = await Promise.race([
      this.pinger.ping(),
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error("Redis did not answer PING in 2s")), 2000).unref(),
      ),
    ]);
    if (reply !== "PONG") throw new Error(`Redis answered PING with ${reply}`);
  }

  /** Lets running jobs finish, then closes every connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.workers.values()].map((w) => w.close()));
    await Promise.allSettled(
      [...this.queues.values()].flatMap(({ queue, events }) => [queue.close(), events.close()]),
    );
    this.pinger.disconnect();
  }

  private open(name: string): { queue: Queue; events: QueueEvents } {
    let entry = this.queues.get(name);
    if (!entry) {
      const queue = new Queue(name, { connection: this.connection, prefix: this.prefix });
      const events = new QueueEvents(name, { connection: this.connection, prefix: this.prefix });
      queue.on("error", (err) => this.onError(err, { queue: name }));
      events.on("error", (err) => this.onError(err, { queue: name }));
      entry = { queue, events };
      this.queues.set(name, entry);
    }
    return entry;
  }
}
