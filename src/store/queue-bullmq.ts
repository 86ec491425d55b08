import { randomUUID } from "node:crypto";
import { type ConnectionOptions, type Job, Queue, QueueEvents, Worker } from "bullmq";
import { Redis } from "ioredis";
import type { JobInfo, JobOptions, JobQueue } from "./ports.js";
import { JobQueueUnavailableError } from "./queue-errors.js";
import { DEFAULT_ATTEMPTS, DEFAULT_BACKOFF_MS } from "./queue-memory.js";

/**
 * BullMQ on Redis. One BullMQ queue per job name so each name gets its own worker concurrency; attempts
 * with exponential backoff; the caller's job id becomes BullMQ's job id, which de-duplicates. BullMQ keeps
 * a finished job under its id (and would then ignore a new one), so `add` removes a finished job first:
 * de-duplication holds while a job waits or runs, as the port says.
 *
 * Redis down: `add` waits at most `enqueueWaitMs` for it to come back (a restart, a failover), then
 * rejects with JobQueueUnavailableError and the job is not queued; it never hangs a webhook or a command.
 * Jobs already queued wait in Redis and run once it returns (workers reconnect by themselves), provided
 * Redis persists them (append-only file): a Redis without persistence comes back empty.
 */

export interface BullQueueOptions {
  url: string;
  /** Redis key prefix; a deployment (or a test) uses its own to share a Redis. */
  prefix?: string;
  /** Finished jobs kept this long for result(). */
  keepFinishedSeconds?: number;
  /** How long `add` waits for an unreachable Redis before it fails (default 5 s). */
  enqueueWaitMs?: number;
  onError?: (err: unknown, where: { queue: string }) => void;
}

/** How long close() waits for queues and their event streams to close. */
const CLOSE_WAIT_MS = 2000;

/**
 * ioredis's errors for a connection that dropped under a command. They carry no class or code of their own,
 * and the client's status can still read "ready" for a moment after the socket closed.
 */
const lostConnection = (err: unknown) =>
  err instanceof Error &&
  /Stream isn't writeable|Connection is closed|ECONNREFUSED|ECONNRESET|EPIPE/.test(
    `${err.message} ${(err as NodeJS.ErrnoException).code ?? ""}`,
  );

/** BullMQ refuses ids that are integers or contain ":"; an encoded, prefixed id is neither. */
const toBullId = (id: string) => `j-${encodeURIComponent(id)}`;
const fromBullId = (id: string | undefined) =>
  id?.startsWith("j-") ? decodeURIComponent(id.slice(2)) : (id ?? "");

export class BullQueue implements JobQueue {
  private readonly connection: ConnectionOptions;
  private readonly prefix: string;
  private readonly keepFinishedSeconds: number;
  private readonly enqueueWaitMs: number;
  /**
   * The connection every queue adds and looks up jobs on. Its commands fail at once while Redis is
   * unreachable instead of waiting in ioredis's offline queue (BullMQ's "failing fast when Redis is
   * down"), so a job is never queued behind the back of a caller that was told it failed.
   */
  private readonly producer: Redis;
  private producerError = "not connected yet";
  /** Resolves when the producer connection is next ready; set while callers wait for it. */
  private ready: Promise<void> | undefined;
  /** host:port of Redis, for error messages (the URL may carry a password). */
  private readonly host: string;
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
    this.enqueueWaitMs = options.enqueueWaitMs ?? 5000;
    this.host = new URL(options.url).host;
    this.producer = new Redis(options.url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
    });
    this.producer.on("error", (err: Error) => {
      this.producerError = err.message;
    });
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
    const consequence = "the job was not queued; retry later";
    await this.connected(this.enqueueWaitMs, consequence);
    const id = options.jobId ?? randomUUID();
    const bullId = toBullId(id);
    try {
      const { queue } = await this.open(name);
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
    } catch (err) {
      // Lost mid-add: the job may or may not be stored, which a retry with the same jobId settles.
      if (this.producer.status !== "ready" || lostConnection(err)) throw this.unavailable(consequence, err);
      throw err;
    }
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
    await this.connected(timeoutMs, `job ${jobId} cannot be looked up`);
    const bullId = toBullId(jobId);
    const known = this.nameOf.get(jobId);
    const names = known ? [known] : [...this.queues.keys()];
    for (const name of names) {
      const { queue, events } = await this.open(name);
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
    // A QueueEvents closed while its connection waits to reconnect (Redis down) never resolves: ioredis
    // emits no 'end' for a socket already gone. Its reconnect is cancelled by then, so stop waiting.
    const closing = Promise.allSettled(
      [...this.queues.values()].flatMap(({ queue, events }) => [queue.close(), events.close()]),
    );
    await Promise.race([closing, new Promise((resolve) => setTimeout(resolve, CLOSE_WAIT_MS).unref())]);
    this.pinger.disconnect();
    this.producer.disconnect();
  }

  /** Resolves once the producer connection is ready, waiting at most `ms` for Redis to come back. */
  private async connected(ms: number, consequence: string): Promise<void> {
    const p = this.producer;
    if (p.status === "ready") return;
    if (p.status === "wait") p.connect().catch(() => {});
    // One 'ready' listener however many callers wait.
    this.ready ??= new Promise<void>((resolve) =>
      p.once("ready", () => {
        this.ready = undefined;
        resolve();
      }),
    );
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), ms);
    });
    const late = await Promise.race([this.ready.then(() => false), timedOut]);
    clearTimeout(timer);
    if (late) throw this.unavailable(`${consequence} (waited ${ms} ms)`);
  }

  private unavailable(consequence: string, cause?: unknown): JobQueueUnavailableError {
    const reason = cause instanceof Error ? cause.message : this.producerError;
    return new JobQueueUnavailableError(
      `job queue unavailable: Redis at ${this.host} is unreachable (${reason}); ${consequence}`,
      { cause },
    );
  }

  private async open(name: string): Promise<{ queue: Queue; events: QueueEvents }> {
    const known = this.queues.get(name);
    if (known) return known;
    // The event stream is read from where it stands now, not from when the QueueEvents connection starts
    // reading ('$'): a job added and finished in between would otherwise never report to result().
    const [last] = await this.producer.xrevrange(`${this.prefix}:${name}:events`, "+", "-", "COUNT", 1);
    const raced = this.queues.get(name);
    if (raced) return raced;
    const queue = new Queue(name, { connection: this.producer, prefix: this.prefix });
    const events = new QueueEvents(name, {
      connection: this.connection,
      prefix: this.prefix,
      lastEventId: last?.[0] ?? "0-0",
    });
    queue.on("error", (err) => this.onError(err, { queue: name }));
    events.on("error", (err) => this.onError(err, { queue: name }));
    const entry = { queue, events };
    this.queues.set(name, entry);
    return entry;
  }
}
