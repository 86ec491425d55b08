import type { FastifyPluginAsync } from "fastify";
import { githubRoutes } from "../bot/github/route.js";
import { gitlabWebhooks } from "../bot/gitlab/webhooks.js";
import { slackRoutes } from "../bot/slack/plugin.js";
import type { ServerRole } from "../config.js";
import { registry } from "../observability/metrics.js";
import { receiversPlugin } from "../pipeline/receivers/plugin.js";
import { apiRoutes } from "./api/plugin.js";
import { consolePlugin } from "./console/plugin.js";
import type { ServerDeps } from "./deps.js";

/**
 * A route plugin gets the server's deps as its options: `export const otlp: RoutePlugin = async (app,
 * deps) => { app.post("/v1/traces", …) }`. It runs in its own fastify context, so content-type parsers
 * and hooks it adds stay local, while the uniform error body and the metrics hooks apply to it.
 */
export type RoutePlugin = FastifyPluginAsync<ServerDeps>;

/** Telemetry receivers (OTLP/HTTP + gRPC, remote_write, Fluent Bit, Faro) publishing to the bus. */
const receivers: RoutePlugin = async (app, deps) => {
  if (!deps.bus) throw new Error("the receivers need a bus");
  await receiversPlugin(app, { bus: deps.bus, config: deps.config, registry });
};

/** The REST API under /api/v1 (OpenAPI at /api/v1/openapi.json), calling the application layer. */
const api: RoutePlugin = async (app, deps) => apiRoutes(app, deps);

/** The routes of a process that only takes telemetry in: they need the bus, not the application layer. */
export const RECEIVER_ROUTES: RoutePlugin[] = [receivers];

/** The routes of the `api` role: the console, the bots' webhooks and the REST API. */
export const API_ROUTES: RoutePlugin[] = [consolePlugin, gitlabWebhooks, slackRoutes(), api, githubRoutes];

/** Every route plugin `slo-scout serve` mounts with all roles. Add yours with one line (import it above). */
export const ROUTES: RoutePlugin[] = [...RECEIVER_ROUTES, ...API_ROUTES];

/** The routes a process with these roles mounts (`worker` has none beyond /live, /health, /ready and /metrics). */
export function routesFor(roles: readonly ServerRole[]): RoutePlugin[] {
  return [
    ...(roles.includes("receivers") ? RECEIVER_ROUTES : []),
    ...(roles.includes("api") ? API_ROUTES : []),
  ];
}
