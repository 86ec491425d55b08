import type { FastifyInstance } from "fastify";
import pino from "pino";
import { type AppContext, openApp } from "../../src/app/context.js";
import { ConfigSchema } from "../../src/config.js";
import { buildServer, type RoutePlugin } from "../../src/server/app.js";

export interface BotServer {
  app: AppContext;
  server: FastifyInstance;
  /** `http://127.0.0.1:<port>`. */
  base: string;
  close(): Promise<void>;
}

/**
 * The one HTTP server with a bot's routes, on an embedded app (PGlite in memory unless `env` says
 * otherwise), listening on a free loopback port: how the chat tests reach a bot over real HTTP. `prepare`
 * runs on the app before the server starts (stored proposals, a demo shop); `serve` gives the server
 * another view of the app (e.g. a database that fails on cue). Logs are silent unless TEST_LOG is set.
 */
export async function startBotServer(
  env: Record<string, string>,
  plugins: RoutePlugin[],
  options: { prepare?: (app: AppContext) => Promise<void>; serve?: (app: AppContext) => AppContext } = {},
): Promise<BotServer> {
  const config = ConfigSchema.parse({ DATABASE_URL: "pglite://memory", LOG_LEVEL: "silent", ...env });
  const logger = pino({ level: process.env.TEST_LOG ?? "silent" });
  const app = await openApp(config, { logger });
  let server: FastifyInstance | undefined;
  try {
    await options.prepare?.(app);
    server = await buildServer(
      { config, logger, sql: app.sql, queue: await app.queue(), app: options.serve?.(app) ?? app },
      { plugins },
    );
    await server.listen({ host: "127.0.0.1", port: 0 });
  } catch (err) {
    await server?.close();
    await app.close();
    throw err;
  }
  const running = server;
  return {
    app,
    server: running,
    base: `http://127.0.0.1:${(running.server.address() as { port: number }).port}`,
    close: async () => {
      await running.close();
      await app.close();
    },
  };
}
