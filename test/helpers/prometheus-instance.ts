import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./free-port.js";
import { requireService } from "./services.js";

/**
 * A Prometheus of a test's own (Debian's `prometheus`, 2.42 here): a free loopback port, its TSDB in a
 * temp dir, the remote-write receiver on so a test loads history through `/api/v1/write`, retention long
 * enough for weeks-old samples, and optional rule files evaluated every `evaluationInterval`.
 */

export const PROMETHEUS_BINARY = process.env.PROMETHEUS_BINARY ?? "/usr/bin/prometheus";

export interface PrometheusInstanceOptions {
  /** Rule files' contents (YAML), written next to the config and loaded by it. */
  rules?: string[];
  evaluationInterval?: string;
  /**
   * `storage.tsdb.out_of_order_time_window` (e.g. 30d): what a Prometheus that already holds samples of
   * now (scraped, or its own rules') needs to take history older than an hour through remote_write.
   */
  outOfOrderWindow?: string;
  /** Extra command-line flags. */
  flags?: string[];
}

export interface PrometheusInstance {
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** Stops the server and deletes its data directory. */
  remove(): Promise<void>;
}

/**
 * True when the binary exists; otherwise fails in CI and prints why the suite is skipped locally
 * (services.ts's rule for every real backend).
 */
export function prometheusAvailable(): Promise<boolean> {
  return requireService("prometheus", async () => {
    if (!existsSync(PROMETHEUS_BINARY))
      throw new Error(`${PROMETHEUS_BINARY} not found (bash scripts/services.sh up promtool installs it)`);
  });
}

export async function startPrometheus(options: PrometheusInstanceOptions = {}): Promise<PrometheusInstance> {
  const dir = mkdtempSync(join(tmpdir(), "slo-scout-prometheus-"));
  const port = await freePort();
  const ruleFiles = (options.rules ?? []).map((text, i) => {
    const file = join(dir, `rules-${i}.yml`);
    writeFileSync(file, text);
    return file;
  });
  const config = [
    "global:",
    `  evaluation_interval: ${options.evaluationInterval ?? "1m"}`,
    ...(ruleFiles.length ? ["rule_files:", ...ruleFiles.map((f) => `  - ${JSON.stringify(f)}`)] : []),
    ...(options.outOfOrderWindow
      ? ["storage:", "  tsdb:", `    out_of_order_time_window: ${options.outOfOrderWindow}`]
      : []),
    "",
  ].join("\n");
  writeFileSync(join(dir, "prometheus.yml"), config);
  const args = [
    `--config.file=${join(dir, "prometheus.yml")}`,
    `--storage.tsdb.path=${join(dir, "data")}`,
    "--storage.tsdb.retention.time=400d",
    `--web.listen-address=127.0.0.1:${port}`,
    "--web.enable-remote-write-receiver",
    "--log.level=warn",
    ...(options.flags ?? []),
  ];
  const child: ChildProcess = spawn(PROMETHEUS_BINARY, args, { stdio: ["ignore", "ignore", "pipe"] });
  let output = "";
  child.stderr?.on("data", (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  const instance: PrometheusInstance = {
    url,
    port,
    dir,
    async remove() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, "exit");
        child.kill("SIGTERM");
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await Promise.race([
      ready(url),
      once(child, "exit").then(() => {
        throw new Error(`prometheus exited: ${output.trim().split("\n").slice(-3).join(" | ")}`);
      }),
      once(child, "error").then(([err]) => {
        throw new Error(`cannot run ${PROMETHEUS_BINARY}: ${(err as Error).message}`);
      }),
    ]);
  } catch (err) {
    await instance.remove();
    throw err;
  }
  return instance;
}

async function ready(url: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const res = await fetch(`${url}/-/ready`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`prometheus at ${url} not ready within 30 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
