import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type AppContext, openApp } from "../../src/app/context.js";
import { main } from "../../src/cli.js";
import { ConfigSchema, loadConfig, type ServerRole } from "../../src/config.js";
import { buildServer, type ServerDeps } from "../../src/server/app.js";
import { routesFor } from "../../src/server/routes.js";
import { workersFor } from "../../src/server/workers.js";
import { MemoryQueue } from "../../src/store/queue-memory.js";

/**
 * SLO_SCOUT_ROLES: one image runs as receivers + API (publishing to Kafka), as pipeline worker, or as all
 * three. What `serve` mounts and starts comes from routesFor/workersFor; the config refuses role sets that
 * would need a bus or a database shared between processes while none is configured.
 */

const load = (env: Record<string, string>) => loadConfig(env, "/nonexistent/slo-scout.yml");
const KAFKA = { KAFKA_BROKERS: "kafka:9092" };
const POSTGRES = { DATABASE_URL: "postgres://slo@db:5432/slo" };

describe("SLO_SCOUT_ROLES in the config", () => {
  it("defaults to all three roles, today's single server", () => {
    expect(load({}).SLO_SCOUT_ROLES).toEqual(["receivers", "api", "worker"]);
  });

  it("accepts the scale-out split on Kafka and Postgres, in any order, spaces and repeats ignored", () => {
    expect(load({ SLO_SCOUT_ROLES: "api, receivers,api", ...KAFKA, ...POSTGRES }).SLO_SCOUT_ROLES).toEqual([
      "api",
      "receivers",
    ]);
    expect(load({ SLO_SCOUT_ROLES: "worker", ...KAFKA, ...POSTGRES }).SLO_SCOUT_ROLES).toEqual(["worker"]);
  });

  it("refuses a worker alone, or receivers alone, on the in-process bus: Kafka is needed", () => {
    expect(() => load({ SLO_SCOUT_ROLES: "worker", ...POSTGRES })).toThrow(
      'config error: SLO_SCOUT_ROLES "worker" a worker without the receivers needs KAFKA_BROKERS',
    );
    expect(() => load({ SLO_SCOUT_ROLES: "receivers,api", ...POSTGRES })).toThrow(
      /SLO_SCOUT_ROLES "receivers,api" receivers without the worker need KAFKA_BROKERS/,
    );
  });

  it("refuses the api and the worker in separate processes on the embedded database", () => {
    for (const roles of ["worker", "receivers,api", "api"]) {
      expect(() => load({ SLO_SCOUT_ROLES: roles, ...KAFKA })).toThrow(
        /need a shared database: set DATABASE_URL to postgres/,
      );
    }
    // Receivers alone touch no stored data of the API's or the worker's.
    expect(load({ SLO_SCOUT_ROLES: "receivers", ...KAFKA }).SLO_SCOUT_ROLES).toEqual(["receivers"]);
  });

  it("names the allowed roles for an unknown or empty value", () => {
    expect(() => load({ SLO_SCOUT_ROLES: "api,ingest" })).toThrow(
      'config error: SLO_SCOUT_ROLES "api,ingest" must be a comma-separated list of receivers, api, worker',
    );
    expect(() => load({ SLO_SCOUT_ROLES: " , " })).toThrow(
      /must name at least one of receivers, api, worker/,
    );
  });
});

describe("slo-scout serve with a role set it cannot serve", () => {
  it("exits 1 with the config error before opening anything", async () => {
    vi.stubEnv("SLO_SCOUT_CONFIG", "/nonexistent/slo-scout.yml");
    vi.stubEnv("SLO_SCOUT_ROLES", "worker");
    vi.stubEnv("KAFKA_BROKERS", "");
    vi.stubEnv("DATABASE_URL", "");
    const stderr = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      expect(await main(["serve"])).toBe(1);
      expect(stderr.mock.calls.map((c) => String(c[0])).join("")).toContain(
        'config error: SLO_SCOUT_ROLES "worker" a worker without the receivers needs KAFKA_BROKERS',
      );
    } finally {
      stderr.mockRestore();
      vi.unstubAllEnvs();
    }
  });
});

describe("what each role set serves and starts", () => {
  let dir: string;
  let ctx: AppContext;
  let deps: ServerDeps;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "slo-scout-roles-"));
    const config = ConfigSchema.parse({
      DATABASE_URL: "pglite://memory",
      BLOB_URL: `file://${dir}/blobs`,
      DATA_DIR: dir,
      SLO_SCOUT_REPO: join(dir, "repo"),
      OTLP_GRPC_PORT: "0",
      INGEST_SPOOL: "off",
      LOG_LEVEL: "silent",
    });
    const logger = pino({ level: "silent" });
    ctx = await openApp(config, { logger });
    deps = {
      config,
      logger,
      sql: ctx.sql,
      app: ctx,
      blobs: await ctx.blobs(),
      bus: await ctx.bus(),
    };
  });

  afterAll(async () => {
    await ctx?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const otlpLogs = { resourceLogs: [] };

  it.each<[string, ServerRole[]]>([
    ["all three", ["receivers", "api", "worker"]],
    ["receivers + API", ["receivers", "api"]],
    ["worker", ["worker"]],
    ["receivers", ["receivers"]],
    ["API + worker", ["api", "worker"]],
  ])("%s", async (_name, roles) => {
    // A queue of its own: the analysis worker registers on it for good.
    const queue = new MemoryQueue();
    const server = await buildServer({ ...deps, queue }, { plugins: routesFor(roles) });
    const workers = workersFor(roles);
    const running = [];
    try {
      for (const w of workers) running.push(await w.start({ ...deps, queue }));
      const status = async (method: "GET" | "POST", url: string, payload?: object) =>
        (await server.inject({ method, url, ...(payload ? { payload } : {}) })).statusCode;

      for (const url of ["/live", "/health", "/ready", "/metrics"])
        expect(await status("GET", url), url).toBe(200);

      const receivers = roles.includes("receivers");
      expect(await status("POST", "/v1/logs", otlpLogs)).toBe(receivers ? 200 : 404);
      expect(await status("POST", "/ingest/fluentbit", [{ log: "x", service: "a" }])).toBe(
        receivers ? 200 : 404,
      );

      const api = roles.includes("api");
      expect(await status("GET", "/api/v1/openapi.json")).toBe(api ? 200 : 404);
      expect(await status("GET", "/")).toBe(api ? 200 : 404);

      expect(workers.map((w) => w.name).sort()).toEqual(
        [...(roles.includes("worker") ? ["stream"] : []), ...(api ? ["analyses"] : [])].sort(),
      );
    } finally {
      await server.close();
      for (const r of running) await r.stop();
      await queue.close();
    }
  });
});
