import { streamWorker } from "../pipeline/worker.js";
import type { ServerDeps } from "./deps.js";

/** A background consumer (a bus subscription, a job worker) that `slo-scout serve` runs next to the API. */
export interface PipelineWorker {
  name: string;
  start(deps: ServerDeps): Promise<{ stop(): Promise<void> }>;
}

/**
 * Every worker `slo-scout serve` starts before the port opens, and stops on shutdown once the bus is
 * flushed (so the in-process bus is drained by them first). Add yours with one line (import it above).
 */
export const WORKERS: PipelineWorker[] = [streamWorker];
