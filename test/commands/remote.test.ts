import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { embeddedDatabaseUrl } from "../../src/config.js";
import { Proposal } from "../../src/core/proposal.js";
import { migrate } from "../../src/store/migrate.js";
import { saveProposal } from "../../src/store/repos/proposals.js";
import { openPglite } from "../../src/store/sql/pglite.js";
import { END, writeService } from "../analysis/analyze-fixture.js";
import { ROOT } from "../generators/helpers.js";
import { type ServeProcess, startServe } from "../helpers/serve-process.js";

/**
 * The CLI while `slo-scout serve` (what `npm start` runs) holds the embedded database, which PGlite admits
 * to one process: the commands, spawned from the same directory without SLO_SCOUT_URL, find the server
 * through <DATA_DIR>/server.json and go through its API, and print what they print locally once it stops.
 */

const run = promisify(execFile);
const recorded = JSON.parse(
  readFileSync(join(ROOT, "test/fixtures/analysis/demo-checkout.json"), "utf8"),
) as { proposals: unknown[] };
/** Nothing in the environment may point the CLI at a server or a database: it must find the server itself. */
const UNSET = Object.fromEntries(
  [
    "SLO_SCOUT_URL",
    "SLO_SCOUT_TOKEN",
    "DATABASE_URL",
    "BLOB_URL",
    "PROMETHEUS_URL",
    "OPENAI_BASE_URL",
    "OPENAI_API_KEY",
    "KAFKA_BROKERS",
    "REDIS_URL",
    "JWT_SECRET",
    "JWT_JWKS_URL",
  ].map((k) => [k, ""]),
);

describe("the CLI while serve holds the embedded database", { timeout: 300_000 }, () => {
  let dir: string;
  let server: ServeProcess;
  const cli = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await run("node", [join(ROOT, "bin/slo-scout.js"), ...args], {
        env: {
          ...process.env,
          ...UNSET,
          DATA_DIR: dir,
          SLO_SCOUT_REPO: join(dir, "repo"),
          SLO_SCOUT_CONFIG: "/nonexistent/slo-scout.yml",
          LOG_LEVEL: "silent",
        },
        cwd: dir,
      });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };
  // `analyze checkout` through the API, to compare with the local run once the server has stopped.
  let remoteAnalysis: { code: number; stdout: string; stderr: string };
  const analyzeArgs = ["analyze", "checkout", "--end", new Date(END).toISOString(), "--step", "15m"];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "slo-scout-remote-"));
    // Eight days of one journey's metrics (a week is the least an analysis proposes from) and the
    // proposals `analyze checkout` recorded on the demo shop, in the embedded database `serve` will open.
    const sql = await openPglite(embeddedDatabaseUrl(dir));
    await migrate(sql);
    await writeService(sql, {
      service: "checkout",
      method: "POST",
      route: "/checkout",
      days: 8,
      counts: (i) => ({ ok: 95, client: 3, server: i % 96 === 40 ? 12 : 1 }),
      latency: { les: [0.1, 0.25, 0.5], shares: [0.6, 0.36, 0.03, 0.01] },
    });
    for (const p of recorded.proposals) await saveProposal(sql, Proposal.parse(p));
    await sql.close();
    server = await startServe(dir, { ...UNSET, SLO_SCOUT_REPO: join(dir, "repo") });
  }, 120_000);
  afterAll(async () => {
    await server?.stop("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  });

  it("serve leaves its address and pid in DATA_DIR/server.json", () => {
    expect(JSON.parse(readFileSync(join(dir, "server.json"), "utf8"))).toEqual({
      url: server.url,
      pid: server.child.pid,
    });
  });

  it("chat answers through the API with the reply it would print locally", async () => {
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

  it("analyze checkout runs on the server and prints its analysis", async () => {
    remoteAnalysis = await cli(...analyzeArgs);
    expect(remoteAnalysis.stderr).not.toMatch(/in use/);
    expect(remoteAnalysis.code, remoteAnalysis.stderr).toBe(0);
    expect(remoteAnalysis.stdout).toMatch(/^Service checkout, window 28d, history /);
    expect(remoteAnalysis.stdout).toMatch(/checkout POST \/checkout availability +\[availability, metrics\]/);
    expect(remoteAnalysis.stdout).toMatch(/target +recommended [\d.]+%/);
    const json = await cli(...analyzeArgs, "--json", "--no-save");
    expect(JSON.parse(json.stdout)).toMatchObject({ service: "checkout", window: "28d" });
  });

  it("capsules lists through the API, and names the known services for an unknown one", async () => {
    const { code, stderr } = await cli("capsules", "nope");
    expect(code).toBe(1);
    expect(stderr).toMatch(/no service named nope; known services: checkout/);
  });

  it("once serve stops, analyze opens the database itself and prints the same analysis", async () => {
    expect(await server.stop("SIGTERM")).toBe(0);
    expect(existsSync(join(dir, "server.json"))).toBe(false);
    const local = await cli(...analyzeArgs);
    expect(local.code, local.stderr).toBe(0);
    expect(local.stdout).toBe(remoteAnalysis.stdout);
  });
});
