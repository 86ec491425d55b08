import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtemp, readdir, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { RawSeries } from "../../src/promql/types.js";
import { freePort } from "../helpers/free-port.js";

/**
 * A real Prometheus for tests: samples are backfilled with `promtool tsdb create-blocks-from openmetrics`,
 * then `prometheus` serves them on a loopback port. Needs the Debian `prometheus` package (prometheus +
 * promtool on PATH).
 */

const run = promisify(execFile);

export async function prometheusBinaries(): Promise<void> {
  await run("promtool", ["--version"]);
  await run("prometheus", ["--version"]);
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Number.POSITIVE_INFINITY) return "+Inf";
  if (v === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(v);
}

/** Renders series as an OpenMetrics exposition with timestamps (the input promtool backfills from). */
export function toOpenMetrics(series: RawSeries[]): string {
  const byName = new Map<string, RawSeries[]>();
  for (const s of series) {
    const name = s.labels.__name__;
    if (!name) throw new Error("series without __name__");
    byName.set(name, [...(byName.get(name) ?? []), s]);
  }
  const lines: string[] = [];
  for (const [name, list] of byName) {
    for (const s of list) {
      const labels = Object.entries(s.labels)
        .filter(([k]) => k !== "__name__")
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(",");
      for (let i = 0; i < s.timestamps.length; i++) {
        lines.push(`${name}{${labels}} ${formatValue(s.values[i]!)} ${s.timestamps[i]! / 1000}`);
      }
    }
  }
  lines.push("# EOF");
  return `${lines.join("\n")}\n`;
}

export interface RunningPrometheus {
  url: string;
  dataDir: string;
  /** The server's version, e.g. "2.42.0+ds". */
  version: string;
  /**
   * Backfills the recording rules of `rulesFile` over [startMs, endMs] with `promtool tsdb
   * create-blocks-from rules` (which queries this Prometheus), then restarts Prometheus so it loads the
   * new blocks.
   */
  backfillRules(rulesFile: string, startMs: number, endMs: number): Promise<void>;
  stop(): Promise<void>;
}

interface Server {
  child: ChildProcess;
  stderr: () => string;
}

async function launch(config: string, dataDir: string, port: number): Promise<Server> {
  const child = spawn(
    "prometheus",
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${dataDir}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--storage.tsdb.retention.time=100y",
      "--log.level=warn",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const server = { child, stderr: () => stderr };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`prometheus exited with ${child.exitCode}: ${stderr.slice(-500)}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/-/ready`);
      if (res.ok) return server;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await halt(server);
      throw new Error(`prometheus did not become ready in 30 s: ${stderr.slice(-500)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function halt({ child }: Server): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
  if (child.exitCode === null) child.kill("SIGKILL");
}

/** Backfills `series` into a fresh TSDB and starts Prometheus on it; `stop()` kills it and removes the data. */
export async function startPrometheusWith(series: RawSeries[]): Promise<RunningPrometheus> {
  const dir = await mkdtemp(join(tmpdir(), "slo-scout-prom-"));
  const dataDir = join(dir, "data");
  const input = join(dir, "input.om");
  const config = join(dir, "prometheus.yml");
  let server: Server | undefined;
  const stop = async () => {
    if (server) await halt(server);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await writeFile(input, toOpenMetrics(series));
    await run("promtool", ["tsdb", "create-blocks-from", "openmetrics", "--quiet", input, dataDir], {
      maxBuffer: 16 * 1024 * 1024,
    });
    await writeFile(config, "global:\n  evaluation_interval: 1m\n");
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    server = await launch(config, dataDir, port);
    const info = (await (await fetch(`${url}/api/v1/status/buildinfo`)).json()) as {
      data?: { version?: string };
    };
    return {
      url,
      dataDir,
      version: info.data?.version ?? "unknown",
      stop,
      async backfillRules(rulesFile, startMs, endMs) {
        const out = join(dir, "rules-blocks");
        await run(
          "promtool",
          [
            "tsdb",
            "create-blocks-from",
            "rules",
            "--quiet",
            `--url=${url}`,
            `--start=${Math.floor(startMs / 1000)}`,
            `--end=${Math.ceil(endMs / 1000)}`,
            `--output-dir=${out}`,
            rulesFile,
          ],
          { maxBuffer: 16 * 1024 * 1024 },
        );
        if (server) await halt(server);
        for (const block of await readdir(out)) await rename(join(out, block), join(dataDir, block));
        server = await launch(config, dataDir, port);
      },
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
