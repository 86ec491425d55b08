import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import type { ServerDeps } from "./deps.js";

export interface ShutdownOptions {
  /** Background workers to stop after the server stops taking requests, before the bus is flushed. */
  workers?: { stop(): Promise<void> }[];
  /** Past this, shutdown gives up waiting and exits 1. */
  timeoutMs?: number;
  exit?: (code: number) => void;
}

/**
 * Stops in the order that loses nothing: stop accepting and finish in-flight requests, flush the bus
 * (messages accepted with a 2xx reach their consumers or Kafka), stop the workers, then close the backends.
 * Resolves with the exit code: 0 when everything closed cleanly.
 */
export async function shutdown(
  app: FastifyInstance,
  deps: ServerDeps,
  options: ShutdownOptions = {},
): Promise<number> {
  const log = deps.logger;
  let code = 0;
  const step = async (what: string, fn: () => Promise<unknown>) => {
    try {
      await fn();
    } catch (err) {
      code = 1;
      log.error({ err }, `shutdown: ${what} failed`);
    }
  };
  await step("closing the HTTP server", () => app.close());
  // Flush before stopping the workers: on the in-process bus the workers are what drains it.
  if (deps.bus) await step("flushing the bus", () => deps.bus!.flush());
  for (const w of options.workers ?? []) await step("stopping a worker", () => w.stop());
  if (deps.bus) await step("closing the bus", () => deps.bus!.close());
  if (deps.queue) await step("closing the job queue", () => deps.queue!.close());
  if (deps.vectors) await step("closing the vector store", () => deps.vectors!.close());
  if (deps.blobs) await step("closing the blob store", () => deps.blobs!.close());
  if (deps.sql) await step("closing the database", () => deps.sql!.close());
  return code;
}

/**
 * On the first SIGTERM/SIGINT, shuts down gracefully and exits with its code; a second signal, or a
 * shutdown that outlives `timeoutMs`, exits 1 at once.
 */
export function exitOnSignals(
  app: FastifyInstance,
  deps: ServerDeps,
  options: ShutdownOptions & { signals?: NodeJS.Signals[] } = {},
): () => void {
  const exit = options.exit ?? ((c: number) => process.exit(c));
  const log: Logger = deps.logger;
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, "second signal: exiting now");
      exit(1);
      return;
    }
    stopping = true;
    log.info({ signal }, "shutting down: finishing in-flight requests");
    const timer = setTimeout(() => {
      log.error(`shutdown took longer than ${options.timeoutMs ?? 15_000}ms; exiting`);
      exit(1);
    }, options.timeoutMs ?? 15_000);
    timer.unref();
    void shutdown(app, deps, options).then((code) => {
      clearTimeout(timer);
      log.info({ code }, "shutdown complete");
      exit(code);
    });
  };
  const signals = options.signals ?? ["SIGTERM", "SIGINT"];
  for (const s of signals) process.on(s, onSignal);
  return () => {
    for (const s of signals) process.off(s, onSignal);
  };
}
