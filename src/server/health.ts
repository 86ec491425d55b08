import type { FastifyInstance } from "fastify";
import { errorBody } from "../core/error-body.js";
import type { ServerDeps } from "./deps.js";

/** A backend that has not answered in this long counts as down, so /health itself never hangs. */
const CHECK_TIMEOUT_MS = 3000;

type Check = () => Promise<unknown>;

function checksFor(deps: ServerDeps): Record<string, Check> {
  const checks: Record<string, Check> = {};
  const { sql, blobs, vectors, bus, queue } = deps;
  if (sql) checks.db = () => sql.query("SELECT 1");
  if (blobs) checks.blobs = () => blobs.ping();
  if (vectors) checks.vectors = () => vectors.ping();
  if (bus) checks.bus = () => bus.ping();
  if (queue) checks.queue = () => queue.ping();
  return checks;
}

function withTimeout(check: Check): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS}ms`)), CHECK_TIMEOUT_MS);
  });
  return Promise.race([check(), timeout]).finally(() => clearTimeout(timer));
}

/**
 * `GET /health`: pings every configured backend at once. 200 `{status:"ok", checks}` when all answer;
 * 503 with the uniform error body naming each failing backend (and the same `checks` map) otherwise.
 */
export function registerHealth(app: FastifyInstance, deps: ServerDeps): void {
  const checks = checksFor(deps);
  app.get("/health", async (request, reply) => {
    const names = Object.keys(checks);
    const outcomes = await Promise.allSettled(names.map((n) => withTimeout(checks[n]!)));
    const result: Record<string, string> = {};
    const failing: string[] = [];
    outcomes.forEach((o, i) => {
      const name = names[i]!;
      if (o.status === "fulfilled") {
        result[name] = "ok";
      } else {
        const reason = (o.reason as Error)?.message?.split("\n")[0] || String(o.reason);
        result[name] = `error: ${reason}`;
        failing.push(`${name} (${reason})`);
      }
    });
    if (failing.length === 0) return { status: "ok", checks: result };
    request.log.warn({ checks: result }, "health check failed");
    reply.code(503);
    return {
      status: "unavailable",
      checks: result,
      ...errorBody("unhealthy", `failing: ${failing.join(", ")}`),
    };
  });
}
