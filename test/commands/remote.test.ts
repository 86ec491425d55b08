import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { FastifyInstance } from "fastify";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AppContext, openApp } from "../../src/app/context.js";
import { announceServer } from "../../src/commands/remote.js";
import { loadConfig } from "../../src/config.js";
import { Journey } from "../../src/core/journey.js";
import { Proposal } from "../../src/core/proposal.js";
import { buildServer } from "../../src/server/app.js";
import { ROUTES } from "../../src/server/routes.js";
import { analysisWorker } from "../../src/server/workers.js";
import { saveProposal } from "../../src/store/repos/proposals.js";
import { touchService, upsertJourneys } from "../../src/store/repos/services.js";
import { ROOT } from "../generators/helpers.js";

/**
 * The CLI while a server holds the embedded database (PGlite admits one process): the commands find the
 * server through <DATA_DIR>/server.json and go through its API, with the output they print locally.
 */

const run = promisify(execFile);
const recorded = JSON.parse(
  readFileSync(join(ROOT, "test/fixtures/analysis/demo-checkout.json"), "utf8"),
) as { journeys: unknown[]; proposals: unknown[] };

describe("the CLI as a client of a running server", { timeout: 240_000 }, () => {
  let dir: string;
  let app: AppContext;
  let server: FastifyInstance;
  let withdraw: () => void;
  const cli = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await run("node", [join(ROOT, "bin/slo-scout.js"), ...args], {
        env: { ...process.env, DATA_DIR: dir, SLO_SCOUT_REPO: join(dir, "repo"), LOG_LEVEL: "silent" },
        cwd: dir,
      });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "slo-scout-remote-"));
    const config = loadConfig(
      { DATA_DIR: dir, SLO_SCOUT_REPO: join(dir, "repo"), OTLP_GRPC_PORT: "0", HOST: "127.0.0.1", PORT: "0" },
      "/nonexistent/slo-scout.yml",
    );
    const logger = pino({ level: "silent" });
    app = await openApp(config, { logger });
    await touchService(app.sql, "checkout", Date.now(), ["metric"]);
    await upsertJourneys(
      app.sql,
      recorded.journeys.map((j) => Journey.parse(j)),
    );
    for (const p of recorded.proposals) await saveProposal(app.sql, Proposal.parse(p));
    const deps = { config, logger, sql: app.sql, app, bus: await app.bus(), queue: await app.queue() };
    server = await buildServer(deps, { plugins: ROUTES });
    await analysisWorker.start(deps);
    const url = await server.listen({ host: "127.0.0.1", port: 0 });
    withdraw = announceServer(config, url);
  }, 120_000);
  afterAll(async () => {
    withdraw?.();
    await server?.close();
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("chat answers through the API with the reply it would print locally", async () => {
    expect(existsSync(join(dir, "server.json"))).toBe(true);
    const { code, stdout, stderr } = await cli("chat", "proposals checkout");
    expect(stderr).not.toMatch(/in use/);
    expect(code).toBe(0);
    for (const p of recorded.proposals as { id: string }[]) expect(stdout).toContain(p.id);
  });

  it("proposals prints what chat's proposals does, through the API too, and takes at most one service", async () => {
    const [own, chat] = await Promise.all([cli("proposals", "checkout"), cli("chat", "proposals checkout")]);
    expect(own.code, own.stderr).toBe(0);
    expect(own.stdout).toBe(chat.stdout);
    const two = await cli("proposals", "checkout", "frontend");
    expect(two.code).toBe(2);
    expect(two.stderr).toMatch(/give at most one service, got 2/);
  });

  it("analyze checkout runs on the server and prints its analysis as it would locally", async () => {
    const { code, stdout, stderr } = await cli("analyze", "checkout");
    expect(stderr).not.toMatch(/in use/);
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/^Service checkout, window 28d, history /);
    const json = await cli("analyze", "checkout", "--json", "--no-save");
    expect(JSON.parse(json.stdout)).toMatchObject({ service: "checkout", window: "28d" });
  });

  it("capsules lists through the API, and names the known services for an unknown one", async () => {
    const { code, stderr } = await cli("capsules", "nope");
    expect(code).toBe(1);
    expect(stderr).toMatch(/no service named nope; known services: checkout/);
  });
});
