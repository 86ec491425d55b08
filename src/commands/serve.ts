import pino from "pino";
import { openApp } from "../app/context.js";
import { demoJobWanted, runDemoJob } from "../app/demo-job.js";
import { loadConfig } from "../config.js";
import { buildServer } from "../server/app.js";
import type { ServerDeps } from "../server/deps.js";
import { routesFor } from "../server/routes.js";
import { exitOnSignals, shutdown } from "../server/shutdown.js";
import { type RunningWorker, workersFor } from "../server/workers.js";
import { type Command, parseFlags } from "./command.js";
import { announceServer } from "./remote.js";

export const command: Command = {
  usage: [
    "Usage: slo-scout serve",
    "",
    "Opens the backends named by the configuration (embedded defaults when nothing is set: PGlite in",
    "DATA_DIR, in-process bus and job queue), applies pending database migrations, starts the pipeline",
    "workers and listens on HOST:PORT. SIGTERM or SIGINT stops it gracefully: in-flight requests finish,",
    "the bus is flushed, open traces and windows are written to the store, the stores are closed (within",
    "SHUTDOWN_TIMEOUT). SLO_SCOUT_ROLES picks what this process runs (default receivers,api,worker): the",
    "receivers, the REST API with the console and the bots, the pipeline worker; /live, /health, /ready",
    "and /metrics answer in every role. Configuration: environment variables or slo-scout.yml",
    "(see README.md), e.g. PORT=8080 DATABASE_URL=postgres://postgres@127.0.0.1:5432/slo slo-scout serve",
  ].join("\n"),
  async run(args) {
    parseFlags({ args, options: {}, allowPositionals: false });
    const config = loadConfig();
    const logger = pino({ level: config.LOG_LEVEL });
    const started = Date.now();
    const roles = config.SLO_SCOUT_ROLES;
    // The demo job and the CLI's calls need the API and the worker in this very process.
    const wholeServer = roles.includes("api") && roles.includes("worker");
    const ctx = await openApp(config, { logger });
    let app: Awaited<ReturnType<typeof buildServer>> | undefined;
    const workers: RunningWorker[] = [];
    let deps: ServerDeps = { config, logger, sql: ctx.sql, app: ctx };
    try {
      deps = {
        ...deps,
        blobs: await ctx.blobs(),
        vectors: await ctx.vectors(),
        bus: await ctx.bus(),
        queue: await ctx.queue(),
      };
      app = await buildServer(deps, { plugins: routesFor(roles) });
      // Workers run before the port opens, so a 200 from /health means the pipeline is consuming too.
      for (const w of workersFor(roles)) {
        workers.push(await w.start(deps));
        logger.info({ worker: w.name }, "worker started");
      }
      await app.listen({ host: config.HOST, port: config.PORT });
    } catch (err) {
      // Close what did open, so a failed start exits instead of hanging on open handles.
      if (app) await shutdown(app, deps, { workers });
      else await ctx.close();
      throw err;
    }
    exitOnSignals(app, deps, { workers, timeoutMs: config.SHUTDOWN_TIMEOUT });
    const address = app.server.address();
    const port = typeof address === "object" && address ? address.port : config.PORT;
    const host = config.HOST === "0.0.0.0" || config.HOST === "::" ? "127.0.0.1" : config.HOST;
    // The CLI on this machine cannot open the embedded database while we hold it: it calls us instead.
    // Removed as the process exits (the shutdown ends in process.exit); a stale file names a dead pid,
    // which the CLI checks.
    if (wholeServer) process.once("exit", announceServer(config, `http://${host}:${port}`));
    logger.info(
      {
        database: ctx.sql.engine,
        bus: config.KAFKA_BROKERS ? "kafka" : "in-process",
        roles,
        startupMs: Date.now() - started,
      },
      `SLO-Scout listening on http://${host}:${port} (console: /, health: /health, metrics: /metrics)`,
    );
    // After the port opens, so /health answers while the demo loads; a failure leaves the server serving.
    (async () => {
      if (!wholeServer || !(await demoJobWanted(ctx))) return;
      await runDemoJob(ctx, {
        write: (text) => process.stdout.write(text),
        // The stream stage's worker can complete its open traces on request.
        drain: async () => {
          for (const w of workers) await w.drain?.();
        },
        baseUrl: `http://${host}:${port}`,
        interactive: process.stdout.isTTY === true,
      });
    })().catch((err) => logger.error({ err }, "the demo job failed; SLO-Scout keeps serving"));
    // Runs until a signal; exitOnSignals ends the process with the shutdown's exit code.
    return new Promise<number>(() => {});
  },
};
