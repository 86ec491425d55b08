import Fastify, { type FastifyInstance, LogController } from "fastify";
import { errorBody } from "../core/error-body.js";
import { registry } from "../observability/metrics.js";
import type { ServerDeps } from "./deps.js";
import { frameworkError, installErrorHandling } from "./errors.js";
import { registerHealth, registerLive, registerReady } from "./health.js";
import { httpDuration, httpRequests } from "./metrics.js";
import type { RoutePlugin } from "./routes.js";

export type { ServerDeps } from "./deps.js";
export type { RoutePlugin } from "./routes.js";

export interface BuildOptions {
  /** Route plugins to mount (serve passes ROUTES from ./routes.ts); each gets `deps` as its options. */
  plugins?: RoutePlugin[];
}

/**
 * The one HTTP server: pino logs, the uniform error body, request body limit (MAX_BODY_BYTES),
 * `/live`, `/health`, `/ready`, `/metrics`, then the route plugins. It is returned registered but not listening.
 */
export async function buildServer(deps: ServerDeps, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger,
    bodyLimit: deps.config.MAX_BODY_BYTES,
    // Fastify's own closing 503 has a different body; the onRequest hook below answers it uniformly.
    return503OnClosing: false,
    forceCloseConnections: "idle",
    frameworkErrors: frameworkError,
    // One line per request is noise at info level under ingest load; debug shows them.
    logController: new LogController({
      disableRequestLogging: deps.config.LOG_LEVEL !== "debug" && deps.config.LOG_LEVEL !== "trace",
    }),
  }) as unknown as FastifyInstance;

  installErrorHandling(app);

  // While closing, a request arriving on a kept-alive connection gets a 503 (the client retries
  // elsewhere) instead of starting work the shutdown would have to wait for.
  let closing = false;
  app.addHook("preClose", async () => {
    closing = true;
  });
  app.addHook("onRequest", async (_request, reply) => {
    if (!closing) return;
    reply.header("connection", "close").header("retry-after", "1");
    return reply.code(503).send(errorBody("unavailable", "server is shutting down"));
  });
  // An in-flight request's keep-alive connection would otherwise hold close() open after it is answered.
  app.addHook("onSend", async (_request, reply) => {
    if (closing) reply.header("connection", "close");
  });

  app.addHook("onResponse", async (request, reply) => {
    // Unmatched URLs share one label so a scanner cannot blow up the series count.
    const route = request.routeOptions.url ?? "unmatched";
    const labels = { method: request.method, route, status_code: String(reply.statusCode) };
    httpRequests.inc(labels);
    httpDuration.observe(labels, reply.elapsedTime / 1000);
  });

  registerLive(app);
  registerHealth(app, deps);
  registerReady(app, deps);

  app.get("/metrics", async (_request, reply) => {
    reply.header("content-type", registry.contentType);
    return registry.metrics();
  });

  for (const plugin of options.plugins ?? []) await app.register(plugin, deps);
  return app;
}
