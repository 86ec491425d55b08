import { runAnalysisJobs } from "../app/analysis-jobs.js";
import type { ServerRole } from "../config.js";
import { startConfiguredPipeline } from "../pipeline/worker.js";
import type { ServerDeps } from "./deps.js";

/** A background consumer (a bus subscription, a job worker) that `slo-scout serve` runs next to the API. */
export interface PipelineWorker {
  name: string;
  /** The role (SLO_SCOUT_ROLES) of the processes that run it. */
  role: ServerRole;
  start(deps: ServerDeps): Promise<RunningWorker>;
}

export interface RunningWorker {
  stop(): Promise<void>;
  /** Stores what the worker still holds in memory (open traces, windows), for a caller that must see it. */
  drain?(): Promise<unknown>;
}

/** The stream stage on the server's backends. */
export const streamWorker: PipelineWorker = {
  name: "stream",
  role: "worker",
  async start(deps: ServerDeps) {
    if (!deps.bus || !deps.sql || !deps.blobs)
      throw new Error("the stream worker needs the bus, the database and blobs");
    return startConfiguredPipeline(deps.config, {
      bus: deps.bus,
      sql: deps.sql,
      blobs: deps.blobs,
      ...(deps.vectors ? { vectors: deps.vectors } : {}),
      logger: deps.logger,
    });
  },
};

/**
 * Analyses queued through the REST API (POST /api/v1/analyses), run on the server's job queue by the
 * processes with the `api` role, like the bots' queued conversations (with REDIS_URL, by any of them).
 */
export const analysisWorker: PipelineWorker = {
  name: "analyses",
  role: "api",
  async start(deps: ServerDeps) {
    if (!deps.app || !deps.queue)
      throw new Error("the analysis worker needs the application and the job queue");
    runAnalysisJobs(deps.app, deps.queue);
    // The queue stops handing out jobs when it is closed at shutdown; nothing else is held here.
    return { stop: async () => {} };
  },
};

/**
 * Every worker `slo-scout serve` starts before the port opens, and stops on shutdown once the bus is
 * flushed (so the in-process bus is drained by them first). Add yours with one line (define or import it
 * above).
 */
export const WORKERS: PipelineWorker[] = [streamWorker, analysisWorker];

/** The workers a process with these roles starts. */
export function workersFor(roles: readonly ServerRole[]): PipelineWorker[] {
  return WORKERS.filter((w) => roles.includes(w.role));
}
