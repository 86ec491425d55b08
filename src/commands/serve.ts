import pino from "pino";
import { loadConfig } from "../config.js";
import { openBus } from "../pipeline/bus/open.js";
import { buildServer } from "../server/app.js";
import type { ServerDeps } from "../server/deps.js";
import { ROUTES } from "../server/routes.js";
import { exitOnSignals, shutdown } from "../server/shutdown.js";
import { WORKERS } from "../server/workers.js";
import { migrate } from "../store/migrate.js";
import { openBlobs, openSql, openVectors } from "../store/open.js";
import { openQueue } from "../store/open-queue.js";
import { type Command, parseFlags } from "./command.js";

export const command: Command = {
  usage: [
    "Usage: slo-scout serve",
    "",
    "Opens the backends named by the configuration (embedded defaults when nothing is set: PGlite in",
    "DATA_DIR, in-process bus and job queue), applies pending database migrations, starts the pipeline",
    "workers and listens on HOST:PORT. SIGTERM or SIGINT stops it gracefully: in-flight requests finish,",
    "the bus is flushed, the stores are closed. Configuration: environment variables or slo-scout.yml",
    "(see README.md), e.g. PORT=8080 DATABASE_URL=postgres://postgres@127.0.0.1:5432/slo slo-scout serve",
  ].join("\n"),
  async run(args) {
    parseFlags({ args, options: {}, allowPositionals: false });
    const config = loadConfig();
    const logger = pino({ level: config.LOG_LEVEL });
    const started = Date.now();
    const deps: ServerDeps = { config, logger };
    let app: Awaited<ReturnType<typeof buildServer>> | undefined;
    const workers: { stop(): Promise<void> }[] = [];
    try {
      deps.sql = await openSql(config);
      const { applied } = await migrate(deps.sql);
      if (applied.length > 0) logger.info({ applied }, "applied database migrations");
      deps.blobs = await openBlobs(config);
      deps.vectors = await openVectors(config, deps.sql);
      deps.bus = openBus(config, logger);
      deps.queue = await openQueue(config, { logger });
      app = await buildServer(deps, { plugins: ROUTES });
      // Workers run before the port opens, so a 200 from /health means the pipeline is consuming too.
      for (const w of WORKERS) {
        workers.push(await w.start(deps));
        logger.info({ worker: w.name }, "worker started");
      }
      await app.listen({ host: config.HOST, port: config.PORT });
    } catch (err) {
      // Close what did open, so a failed start exits instead of hanging on open handles.
      if (app) await shutdown(app, deps, { workers });
      else {
        await deps.queue?.close().catch(() => {});
        await deps.bus?.close().catch(() => {});
        await deps.vectors?.close().catch(() => {});
        await deps.blobs?.close().catch(() => {});
        await deps.sql?.close().catch(() => {});
      }
      throw err;
    }
    exitOnSignals(app, deps, { workers });
    const address = app.server.address();
    const port = typeof address === "object" && address ? address.port : config.PORT;
    const host = config.HOST === "0.0.0.0" || config.HOST === "::" ? "127.0.0.1" : config.HOST;
    logger.info(
      {
        database: deps.sql.engine,
        bus: config.KAFKA_BROKERS ? "kafka" : "in-process",
        startupMs: Date.now() - started,
      },
      `SLO-Scout listening on http://${host}:${port} (health: /health, metrics: /metrics)`,
    );
    // Runs until a signal; exitOnSignals ends the process with the shutdown's exit code.
    return new Promise<number>(() => {});
  },
};
