import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it, vi } from "vitest";
import { main } from "../src/cli.js";

const BIN = fileURLToPath(new URL("../bin/slo-scout.js", import.meta.url));
const dirs: string[] = [];
const children: ChildProcess[] = [];

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "slo-scout-cli-"));
  dirs.push(d);
  return d;
}

afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Env for the CLI: only what the test sets, so a developer's own DATABASE_URL etc. cannot leak in. */
function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: "info", ...extra };
}

/** Runs the real CLI in a fresh directory (no slo-scout.yml, no .slo-scout) and collects its output. */
function cli(args: string[], extra: Record<string, string> = {}) {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: tempDir(), env: env(extra) });
  children.push(child);
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c) => {
    stdout += c;
  });
  child.stderr.on("data", (c) => {
    stderr += c;
  });
  const done = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    child,
    done,
    out: () => stdout,
    err: () => stderr,
  };
}

/** Runs `main` in this process, capturing what it writes: the dispatcher's logic without a process spawn. */
async function inProcess(args: string[]) {
  let out = "";
  let err = "";
  const o = vi.spyOn(process.stdout, "write").mockImplementation((c) => {
    out += String(c);
    return true;
  });
  const e = vi.spyOn(process.stderr, "write").mockImplementation((c) => {
    err += String(c);
    return true;
  });
  try {
    return { code: await main(args), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

describe("slo-scout dispatcher", () => {
  it("prints help and exits 2 for no command and for an unknown one", async () => {
    const none = await inProcess([]);
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/^Usage: slo-scout <command>/);
    const unknown = await inProcess(["serv"]);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('unknown command "serv"');
    expect(unknown.err).toMatch(/^ {2}serve {11}run the server/m);
  });

  it("prints the command's usage and exits 2 for a bad flag or a stray argument", async () => {
    for (const args of [
      ["serve", "--port", "80"],
      ["serve", "now"],
    ]) {
      const bad = await inProcess(args);
      expect(bad.code).toBe(2);
      expect(bad.err).toMatch(/^slo-scout serve: /);
      expect(bad.err).toContain("Usage: slo-scout serve");
    }
  });

  it("shows help, a command's usage and the version on request", async () => {
    const help = await inProcess(["--help"]);
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/^ {2}migrate /m);
    const serveHelp = await inProcess(["serve", "--help"]);
    expect(serveHelp.code).toBe(0);
    expect(serveHelp.out).toMatch(/^Usage: slo-scout serve/);
    const version = await inProcess(["--version"]);
    expect(version.code).toBe(0);
    expect(version.out).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});

// Each test spawns the real binary, which loads TypeScript through tsx: seconds each, more on a busy machine.
describe.concurrent("slo-scout binary", { timeout: 120_000 }, () => {
  it("exits 2 with the usage for a bad flag", async () => {
    const bad = cli(["serve", "--port", "80"]);
    expect(await bad.done).toBe(2);
    expect(bad.err()).toContain("slo-scout serve: Unknown option '--port'");
    expect(bad.err()).toContain("Usage: slo-scout serve");
  });

  it("refuses a bad DATABASE_URL with one line naming it, and exits 1", async () => {
    const bad = cli(["serve"], { DATABASE_URL: "nonsense" });
    expect(await bad.done).toBe(1);
    const lines = bad.err().trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/DATABASE_URL "nonsense" must be a URL .*e\.g\. pglite:\/\//);
    expect(bad.out()).toBe("");
  });

  it("serves /health and /metrics on embedded defaults and stops cleanly on SIGTERM", async () => {
    const dir = tempDir();
    const started = Date.now();
    const serve = cli(["serve"], {
      PORT: "0",
      HOST: "127.0.0.1",
      OTLP_GRPC_PORT: "0",
      DATA_DIR: dir,
      DATABASE_URL: `pglite://${join(dir, "db")}`,
      BLOB_URL: `file://${join(dir, "blobs")}`,
    });
    let url: string | undefined;
    while (!url) {
      if (serve.child.exitCode !== null) throw new Error(`serve exited early: ${serve.err()}${serve.out()}`);
      url = /SLO-Scout listening on (http:\/\/[^\s]+?) /.exec(serve.out())?.[1];
      await new Promise((r) => setTimeout(r, 100));
    }
    const health = await fetch(`${url}/health`);
    const upAfterMs = Date.now() - started;
    expect(health.status).toBe(200);
    const body = await health.json();
    expect(body.status).toBe("ok");
    expect(body.checks).toEqual({ db: "ok", blobs: "ok", vectors: "ok", bus: "ok", queue: "ok" });
    process.stderr.write(
      `[measure] slo-scout serve answered /health 200 after ${upAfterMs} ms (fresh PGlite)\n`,
    );

    // The receivers are mounted: an OTLP/JSON log is accepted and counted.
    const otlp = await fetch(`${url}/v1/logs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        resourceLogs: [
          {
            resource: { attributes: [{ key: "service.name", value: { stringValue: "checkout" } }] },
            scopeLogs: [
              { logRecords: [{ timeUnixNano: "1732700000000000000", body: { stringValue: "hi" } }] },
            ],
          },
        ],
      }),
    });
    expect(otlp.status).toBe(200);

    const metrics = await fetch(`${url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get("content-type")).toMatch(/^text\/plain/);
    const text = await metrics.text();
    expect(text).toMatch(/^# TYPE process_cpu_user_seconds_total counter$/m);
    expect(text).toMatch(
      /^slo_scout_http_requests_total\{method="GET",route="\/health",status_code="200"\} 1$/m,
    );
    expect(text).toMatch(/^slo_scout_ingest_records_total\{[^}]*outcome="accepted"[^}]*\} 1$/m);

    const missing = await fetch(`${url}/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: { code: "not_found", message: "no route for GET /nope" } });

    serve.child.kill("SIGTERM");
    expect(await serve.done).toBe(0);
    expect(serve.out()).toContain("shutdown complete");

    // A start that fails late (port taken, after the database opened) exits 1 with the reason instead of
    // hanging on open handles; the database from the first run is reused, nothing left to migrate.
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", r));
    const taken = (blocker.address() as AddressInfo).port;
    const again = cli(["serve"], {
      PORT: String(taken),
      HOST: "127.0.0.1",
      OTLP_GRPC_PORT: "0",
      DATA_DIR: dir,
    });
    const code = await again.done;
    blocker.close();
    expect(code).toBe(1);
    expect(again.err()).toMatch(/^slo-scout serve: .*EADDRINUSE/m);
    expect(again.out()).not.toContain("applied database migrations");
  }, 300_000);
});
