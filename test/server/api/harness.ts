import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { SignJWT } from "jose";
import pino from "pino";
import { type AppContext, openApp } from "../../../src/app/context.js";
import { ConfigSchema } from "../../../src/config.js";
import { buildServer } from "../../../src/server/app.js";
import { ROUTES } from "../../../src/server/routes.js";
import { analysisWorker } from "../../../src/server/workers.js";

export const SECRET = "api-test-secret-0123456789abcdef0123456789";

/** A bearer header for a token with `scope`, signed with the test's JWT_SECRET. */
export async function tokenFor(scope: string, sub = "tester"): Promise<{ authorization: string }> {
  const jwt = await new SignJWT({ scope })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(sub)
    .setExpirationTime("1h")
    .sign(new TextEncoder().encode(SECRET));
  return { authorization: `Bearer ${jwt}` };
}

export interface ApiHarness {
  app: AppContext;
  server: FastifyInstance;
  repo: string;
  close(): Promise<void>;
}

/**
 * The server as `serve` builds it (every route plugin, the analysis worker) on an in-memory database, an
 * in-process bus and queue, and a local git repository in a temporary directory; JWT_SECRET set.
 */
export async function startApi(env: Record<string, string> = {}): Promise<ApiHarness> {
  const dir = mkdtempSync(join(tmpdir(), "slo-scout-api-"));
  const repo = join(dir, "repo");
  mkdirSync(repo);
  execFileSync("git", ["-C", repo, "init", "-q", "-b", "main"]);
  const config = ConfigSchema.parse({
    DATABASE_URL: "pglite://memory",
    BLOB_URL: `file://${dir}/blobs`,
    SLO_SCOUT_REPO: repo,
    OTLP_GRPC_PORT: "0",
    JWT_SECRET: SECRET,
    LOG_LEVEL: "silent",
    ...env,
  });
  const logger = pino({ level: "silent" });
  const app = await openApp(config, { logger });
  const deps = { config, logger, sql: app.sql, app, bus: await app.bus(), queue: await app.queue() };
  const server = await buildServer(deps, { plugins: ROUTES });
  const worker = await analysisWorker.start(deps);
  return {
    app,
    server,
    repo,
    async close() {
      await server.close();
      await worker.stop();
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
