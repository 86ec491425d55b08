import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createWriteStream, readFileSync, type WriteStream } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * `slo-scout serve` as users run it (the given Node flags), as a child process on a fixed port so
 * that clients reach it again after a restart, its output appended to a log file; and its resident memory
 * and CPU read from /proc while it runs.
 */

const BIN = fileURLToPath(new URL("../../bin/slo-scout.js", import.meta.url));
/**
 * The Node flags the container image runs `serve` with (its ENTRYPOINT, between `node` and the CLI), so the
 * soak measures the server as it is deployed; `npm start`'s flags favour the demo job's memory instead.
 */
export function imageNodeFlags(): string[] {
  const dockerfile = readFileSync(fileURLToPath(new URL("../../Dockerfile", import.meta.url)), "utf8");
  const line = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(dockerfile)?.[1];
  if (!line) throw new Error("Dockerfile has no ENTRYPOINT in exec form");
  const argv = JSON.parse(line) as string[];
  return argv.slice(
    1,
    argv.findIndex((a) => a.endsWith("slo-scout.js")),
  );
}

export interface Serve {
  url: string;
  pid: number;
  /** Sends SIGTERM (a graceful stop) and resolves with the exit code and how long the stop took. */
  stop(): Promise<{ code: number | null; ms: number }>;
}

export async function startServe(
  port: number,
  env: Record<string, string>,
  log: WriteStream,
  nodeFlags: string[],
): Promise<Serve> {
  const child: ChildProcess = spawn(process.execPath, [...nodeFlags, BIN, "serve"], {
    env: {
      ...process.env,
      HOST: "127.0.0.1",
      PORT: String(port),
      OTLP_GRPC_PORT: "0",
      SLO_SCOUT_DEMO: "off",
      LOG_LEVEL: "info",
      DATABASE_URL: "",
      KAFKA_BROKERS: "",
      REDIS_URL: "",
      BLOB_URL: "",
      SLO_SCOUT_CONFIG: "/nonexistent/slo-scout.yml",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout!.pipe(log, { end: false });
  child.stderr!.pipe(log, { end: false });
  const exited = once(child, "exit").then(([code]) => code as number | null);
  let out = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("serve did not start in 120 s")), 120_000);
    const check = (d: Buffer) => {
      out = (out + d.toString("utf8")).slice(-4096);
      if (out.includes("SLO-Scout listening on")) {
        clearTimeout(timer);
        child.stdout!.off("data", check);
        resolve();
      }
    };
    child.stdout!.on("data", check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited ${code} before listening:\n${out}`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    async stop() {
      const t0 = Date.now();
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const code = await exited;
      return { code, ms: Date.now() - t0 };
    },
  };
}

export function openLog(path: string): WriteStream {
  return createWriteStream(path, { flags: "a" });
}

const TICKS_PER_SECOND = 100;

/** Resident memory (MiB) and CPU seconds (user + system) of a process, or undefined once it is gone. */
export function processUsage(pid: number): { rssMiB: number; cpuSeconds: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
    // Fields after the command name (which may hold spaces): utime is the 14th field, stime the 15th.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const cpu = (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
    return { rssMiB: rssKiB / 1024, cpuSeconds: cpu };
  } catch {
    return undefined;
  }
}

/**
 * The server's own count of accepted records (handed to the bus) per receiver and signal, from
 * `slo_scout_ingest_records_total` on /metrics; undefined when it does not answer.
 */
export async function acceptedByServer(url: string): Promise<Record<string, number> | undefined> {
  try {
    const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(30_000) })).text();
    const out: Record<string, number> = {};
    for (const m of text.matchAll(
      /^slo_scout_ingest_records_total\{receiver="([^"]+)",signal="([^"]+)",outcome="accepted"\} (\S+)$/gm,
    )) {
      out[`${m[1]}/${m[2]}`] = Number(m[3]);
    }
    return out;
  } catch {
    return undefined;
  }
}

/** CPU seconds the whole machine has spent busy (every state but idle and iowait), from /proc/stat. */
export function machineBusySeconds(): number {
  const fields = readFileSync("/proc/stat", "utf8")
    .split("\n", 1)[0]!
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const [user, nice, system, , , irq, softirq, steal] = fields;
  return (
    ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) /
    TICKS_PER_SECOND
  );
}
