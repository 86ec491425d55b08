import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";

/**
 * `slo-scout serve` as a real child process on embedded defaults (PGlite, in-process bus) in `dataDir`,
 * on a free port, for tests about what survives a SIGTERM or a SIGKILL.
 */
export interface ServeProcess {
  url: string;
  child: ChildProcess;
  /** Everything the process wrote so far (pino JSON lines). */
  output(): string;
  /** Sends `signal` and resolves with the exit code (null when killed). */
  stop(signal: NodeJS.Signals): Promise<number | null>;
}

const BIN = fileURLToPath(new URL("../../bin/slo-scout.js", import.meta.url));

export async function startServe(dataDir: string, env: Record<string, string> = {}): Promise<ServeProcess> {
  const child = spawn(process.execPath, [BIN, "serve"], {
    env: {
      ...process.env,
      DATA_DIR: dataDir,
      HOST: "127.0.0.1",
      PORT: "0",
      OTLP_GRPC_PORT: "0",
      SLO_SCOUT_DEMO: "off",
      LOG_LEVEL: "info",
      DATABASE_URL: "",
      BLOB_URL: "",
      KAFKA_BROKERS: "",
      REDIS_URL: "",
      SLO_SCOUT_CONFIG: "/nonexistent/slo-scout.yml",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => {
    out += d.toString("utf8");
  });
  child.stderr!.on("data", (d: Buffer) => {
    out += d.toString("utf8");
  });
  const exited = once(child, "exit").then(([code]) => code as number | null);
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      // A test whose setup failed has no handle to stop it with: it must not outlive the test run.
      child.kill("SIGKILL");
      reject(new Error(`serve did not start in 60 s:\n${out}`));
    }, 60_000);
    const check = () => {
      const m = /SLO-Scout listening on (http:\/\/[^ ]+) /.exec(out);
      if (m) {
        clearTimeout(timer);
        child.stdout!.off("data", check);
        resolve(m[1]!);
      }
    };
    child.stdout!.on("data", check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited ${code} before listening:\n${out}`));
    });
  });
  return {
    url,
    child,
    output: () => out,
    async stop(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
