import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { MemoryBus } from "../../src/pipeline/bus/memory.js";
import { buildServer, type ServerDeps } from "../../src/server/app.js";
import { loadMigrations } from "../../src/store/migrate.js";
import type { Sql } from "../../src/store/ports.js";
import { MemoryQueue } from "../../src/store/queue-memory.js";

/**
 * GET /ready: traffic only once migrations, bus and queue are up. While the server drains, every request
 * (this one too) gets the closing hook's 503: test/server/shutdown.test.ts.
 */

const logger = pino({ level: "silent" });
const config = loadConfig({}, "/nonexistent/slo-scout.yml");

/** A database whose schema_migrations lists `applied`. */
const sqlWith = (applied: string[]): Sql =>
  ({
    engine: "pglite",
    query: async () => ({ rows: applied.map((name) => ({ name })), rowCount: applied.length }),
    close: async () => {},
  }) as unknown as Sql;

const closers: { close(): Promise<unknown> }[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!.close();
});

async function ready(deps: Partial<ServerDeps>) {
  const app = await buildServer({ config, logger, ...deps });
  closers.push(app);
  return app.inject({ method: "GET", url: "/ready" });
}

describe("GET /ready", () => {
  it("200 when every migration is applied and the bus and queue answer", async () => {
    const bus = new MemoryBus();
    const queue = new MemoryQueue();
    closers.push(bus, queue);
    const all = (await loadMigrations()).map((m) => m.name);
    const res = await ready({ sql: sqlWith(all), bus, queue });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: "ready", checks: { migrations: "ok", bus: "ok", queue: "ok" } });
  });

  it("503 naming what is missing: a pending migration, no queue, a closed bus", async () => {
    const bus = new MemoryBus();
    const all = (await loadMigrations()).map((m) => m.name);
    await bus.close();
    const res = await ready({ sql: sqlWith(all.slice(0, -1)), bus });
    expect(res.statusCode).toBe(503);
    expect(res.headers["retry-after"]).toBe("1");
    const body = res.json();
    expect(body.checks.migrations).toBe(`error: migrations pending: ${all.at(-1)}`);
    expect(body.checks.queue).toBe("error: no job queue");
    expect(body.checks.bus).toMatch(/^error: /);
    expect(body.error).toEqual({
      code: "not_ready",
      message: expect.stringMatching(/^not ready: migrations/),
    });
  });
});
