import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../helpers/free-port.js";

/** A real Prometheus server (Debian's `prometheus` binary) started on loopback for one test file. */
export interface PrometheusProcess {
  url: string;
  stop(): Promise<void>;
  /** What Prometheus printed, for a failing test's message. */
  output(): string;
}

export function prometheusBinary(): string {
  const bin = process.env.PROMETHEUS_BIN ?? "prometheus";
  execFileSync(bin, ["--version"], { stdio: "ignore" });
  return bin;
}

export async function startPrometheus(configYaml: string): Promise<PrometheusProcess> {
  const bin = prometheusBinary();
  const dir = mkdtempSync(join(tmpdir(), "slo-scout-prom-"));
  writeFileSync(join(dir, "prometheus.yml"), configYaml);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let out = "";
  const child: ChildProcess = spawn(
    bin,
    [
      `--config.file=${join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--log.level=warn",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  child.stdout?.on("data", (d) => {
    out += d;
  });
  child.stderr?.on("data", (d) => {
    out += d;
  });
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill("SIGTERM");
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          child.kill("SIGKILL");
          resolve();
        }, 5000);
        child.once("exit", () => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    try {
      const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(500) });
      if (res.ok) return { url, stop, output: () => out };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error(`Prometheus did not become ready: ${out.slice(-2000)}`);
}
