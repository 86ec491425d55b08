import { randomUUID } from "node:crypto";
import type { JobInfo, JobOptions, JobQueue } from "./ports.js";

/**
 * The in-process job queue: the same semantics as the BullMQ adapter (per-name workers with a concurrency
 * limit, retries with exponential backoff, de-duplication by job id while a job waits or runs, result()),
 * without Redis. Jobs live in memory: a restart forgets the ones not yet done.
 */

export const DEFAULT_ATTEMPTS = 3;
export const DEFAULT_BACKOFF_MS = 1000;
/** Finished jobs kept for result(); older ones are forgotten first. */
const KEEP_FINISHED = 1000;

type State = "waiting" | "active" | "delayed" | "completed" | "failed";

interface Job {
  id: string;
  name: string;
  data: unknown;
  attempts: number;
  backoffMs: number;
  attemptsMade: number;
  state: State;
  result?: unknown;
  error?: string;
}

interface Worker {
  handler: (job: JobInfo<unknown>) => Promise<unknown>;
  concurrency: number;
  running: number;
}

type Waiter = { resolve: (v: unknown) => void; reject: (e: Error) => void };

export class MemoryQueue implements JobQueue {
  private readonly jobs = new Map<string, Job>();
  private readonly waiting = new Map<string, Job[]>();
  private readonly workers = new Map<string, Worker>();
  private readonly waiters = new Map<string, Set<Waiter>>();
  private readonly finished: string[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly running = new Set<Promise<void>>();
  private closed = false;

  async add<T>(name: string, data: T, options: JobOptions = {}): Promise<string> {
    if (this.closed) throw new Error("job queue is closed");
    const id = options.jobId ?? randomUUID();
    const existing = this.jobs.get(id);
    if (
      existing &&
      (existing.state === "waiting" || existing.state === "active" || existing.state === "delayed")
    ) {
      return id;
    }
    const job: Job = {
      id,
      name,
      data,
      attempts: Math.max(1, options.attempts ?? DEFAULT_ATTEMPTS),
      backoffMs: options.backoffMs ?? DEFAULT_BACKOFF_MS,
      attemptsMade: 0,
      state: "waiting",
    };
    this.jobs.set(id, job);
    this.enqueue(job);
    return id;
  }

  process<T, R>(name: string, handler: (job: JobInfo<T>) => Promise<R>, concurrency = 1): void {
    if (this.workers.has(name)) throw new Error(`a worker for jobs named "${name}" is already registered`);
    this.workers.set(name, {
      handler: handler as (job: JobInfo<unknown>) => Promise<unknown>,
      concurrency: Math.max(1, concurrency),
      running: 0,
    });
    this.drain(name);
  }

  result<R>(jobId: string, timeoutMs = 30_000): Promise<R> {
    const job = this.jobs.get(jobId);
    if (!job) return Promise.reject(new Error(`no job with id ${jobId}`));
    if (job.state === "completed") return Promise.resolve(job.result as R);
    if (job.state === "failed") return Promise.reject(new Error(job.error));
    return new Promise<R>((resolve, reject) => {
      const set = this.waiters.get(jobId) ?? new Set();
      this.waiters.set(jobId, set);
      const waiter: Waiter = {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as R);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      const timer = setTimeout(() => {
        set.delete(waiter);
        reject(new Error(`job ${jobId} did not finish within ${timeoutMs}ms`));
      }, timeoutMs);
      set.add(waiter);
    });
  }

  async ping(): Promise<void> {
    if (this.closed) throw new Error("job queue is closed");
  }

  /** Stops taking jobs, waits for running ones, and fails anyone still waiting for a result. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.allSettled([...this.running]);
    for (const [id, set] of this.waiters) {
      for (const w of set) w.reject(new Error(`job queue closed before job ${id} finished`));
    }
    this.waiters.clear();
  }

  private enqueue(job: Job): void {
    job.state = "waiting";
    const list = this.waiting.get(job.name) ?? [];
    list.push(job);
    this.waiting.set(job.name, list);
    this.drain(job.name);
  }

  private drain(name: string): void {
    const worker = this.workers.get(name);
    const list = this.waiting.get(name);
    if (!worker || !list) return;
    while (!this.closed && worker.running < worker.concurrency && list.length > 0) {
      const job = list.shift()!;
      worker.running++;
      const run = this.run(job, worker).finally(() => {
        worker.running--;
        this.running.delete(run);
        this.drain(name);
      });
      this.running.add(run);
    }
  }

  private async run(job: Job, worker: Worker): Promise<void> {
    job.state = "active";
    try {
      const result = await worker.handler({
        id: job.id,
        name: job.name,
        data: job.data,
        attemptsMade: job.attemptsMade,
      });
      job.attemptsMade++;
      this.finish(job, "completed", result);
    } catch (err) {
      job.attemptsMade++;
      const message = (err as Error)?.message ?? String(err);
      if (job.attemptsMade >= job.attempts || this.closed) {
        this.finish(job, "failed", undefined, message);
        return;
      }
      // Exponential backoff as BullMQ computes it: delay · 2^(attempts made − 1).
      job.state = "delayed";
      const timer = setTimeout(
        () => {
          this.timers.delete(timer);
          if (!this.closed) this.enqueue(job);
        },
        job.backoffMs * 2 ** (job.attemptsMade - 1),
      );
      this.timers.add(timer);
    }
  }

  private finish(job: Job, state: "completed" | "failed", result: unknown, error?: string): void {
    job.state = state;
    job.result = result;
    job.error = error;
    job.data = undefined;
    this.finished.push(job.id);
    while (this.finished.length > KEEP_FINISHED) {
      const old = this.finished.shift()!;
      const j = this.jobs.get(old);
      if (j && (j.state === "completed" || j.state === "failed")) this.jobs.delete(old);
    }
    const set = this.waiters.get(job.id);
    this.waiters.delete(job.id);
    for (const w of set ?? []) {
      if (state === "completed") w.resolve(result);
      else w.reject(new Error(error));
    }
  }
}
