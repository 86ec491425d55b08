import type { FastifyPluginAsync } from "fastify";
import type { ServerDeps } from "./deps.js";

/**
 * A route plugin gets the server's deps as its options: `export const otlp: RoutePlugin = async (app,
 * deps) => { app.post("/v1/traces", …) }`. It runs in its own fastify context, so content-type parsers
 * and hooks it adds stay local, while the uniform error body and the metrics hooks apply to it.
 */
export type RoutePlugin = FastifyPluginAsync<ServerDeps>;

/** Every route plugin `slo-scout serve` mounts. Add yours with one line (import it above). */
export const ROUTES: RoutePlugin[] = [];
