import type { FastifyInstance } from "fastify";
import { errorBody } from "../core/error-body.js";
import { loadMigrations } from "../store/migrate.js";
import type { Sql } from "../store/ports.js";
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

/**
 * `GET /live`: 200 while this process's event loop answers. It asks no backend, so a liveness probe on it
 * restarts a hung process but not a healthy one during a Milvus, S3 or database outage (/health fails
 * then, /ready takes the process out of traffic where that matters).
 */
export function registerLive(app: FastifyInstance): void {
  app.get("/live", async () => ({ status: "alive" }));
}

/** Whether every migration file is recorded as applied (another process may still be migrating). */
async function migrated(sql: Sql): Promise<void> {
  const [files, { rows }] = await Promise.all([
    loadMigrations(),
    sql.query<{ name: string }>("SELECT name FROM schema_migrations"),
  ]);
  const applied = new Set(rows.map((r) => r.name));
  const pending = files.filter((m) => !applied.has(m.name)).map((m) => m.name);
  if (pending.length > 0) throw new Error(`migrations pending: ${pending.join(", ")}`);
}

/**
 * `GET /ready`: whether this process should get traffic: 200 once the migrations are applied and the bus
 * and the job queue answer; 503 (with the uniform error body and the same `checks` map as /health)
 * before that, and while the server drains at shutdown (the closing hook in app.ts answers every request
 * then). Unlike /health it leaves out the blob and vector stores, whose outages ingest rides out.
 */
export function registerReady(app: FastifyInstance, deps: ServerDeps): void {
  const checks: Record<string, Check> = {};
  const { sql, bus, queue } = deps;
  checks.migrations = sql ? () => migrated(sql) : async () => Promise.reject(new Error("no database"));
  checks.bus = bus ? () => bus.ping() : async () => Promise.reject(new Error("no bus"));
  checks.queue = queue ? () => queue.ping() : async () => Promise.reject(new Error("no job queue"));
  app.get("/ready", async (_request, reply) => {
    const names = Object.keys(checks);
    const outcomes = await Promise.allSettled(names.map((n) => withTimeout(checks[n]!)));
    const result: Record<string, string> = {};
    const failing: string[] = [];
    outcomes.forEach((o, i) => {
      const name = names[i]!;
      if (o.status === "fulfilled") result[name] = "ok";
      else {
        const reason = (o.reason as Error)?.message?.split("\n")[0] || String(o.reason);
        result[name] = `error: ${reason}`;
        failing.push(`${name} (${reason})`);
      }
    });
    if (failing.length === 0) return { status: "ready", checks: result };
    reply.code(503).header("retry-after", "1");
    return {
      status: "not ready",
      checks: result,
      ...errorBody("not_ready", `not ready: ${failing.join(", ")}`),
    };
  });
}
