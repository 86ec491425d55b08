import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./free-port.js";
import { tcpProbe } from "./services.js";

/**
 * A redis-server of a test's own (a free loopback port, its data in a temp dir), for tests that stop and
 * start Redis: the shared Redis on 6379 serves other test files in parallel and must never go down.
 */

export interface RedisInstanceOptions {
  /**
   * Append-only file on (`appendonly yes`, fsync every second): what a Redis behind BullMQ needs, since
   * without persistence a restart empties it, queued jobs included.
   */
  appendOnly: boolean;
}

export interface RedisInstance {
  readonly url: string;
  readonly port: number;
  /** SIGTERM: Redis's own clean shutdown (with append-only on, the file is flushed first). */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops the server if it runs and deletes its data directory. */
  remove(): Promise<void>;
}

const BINARY = process.env.REDIS_SERVER ?? "redis-server";

export async function startRedisInstance(options: RedisInstanceOptions): Promise<RedisInstance> {
  const dir = mkdtempSync(join(tmpdir(), "slo-scout-redis-"));
  const port = await freePort();
  let child: ChildProcess | undefined;
  let output = "";

  const instance: RedisInstance = {
    url: `redis://127.0.0.1:${port}`,
    port,
    async start() {
      const args = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", ""];
      args.push("--appendonly", options.appendOnly ? "yes" : "no");
      const proc = spawn(BINARY, args, { stdio: ["ignore", "pipe", "pipe"] });
      child = proc;
      proc.stdout?.on("data", (d: Buffer) => (output = (output + d.toString()).slice(-2000)));
      proc.stderr?.on("data", (d: Buffer) => (output = (output + d.toString()).slice(-2000)));
      const exited = once(proc, "exit").then(() => {
        throw new Error(`redis-server exited: ${output.trim().split("\n").at(-1) ?? ""}`);
      });
      const spawnFailed = once(proc, "error").then(([err]) => {
        throw new Error(`cannot run ${BINARY}: ${(err as Error).message}`);
      });
      // The race also handles the later rejection of `exited`, when stop() ends the process.
      await Promise.race([ready(port), exited, spawnFailed]);
    },
    async stop() {
      const proc = child;
      child = undefined;
      if (!proc || proc.exitCode !== null) return;
      const exited = once(proc, "exit");
      proc.kill("SIGTERM");
      await exited;
    },
    async remove() {
      await instance.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await instance.start();
  } catch (err) {
    await instance.remove();
    throw err;
  }
  return instance;
}

/** Resolves once the port accepts connections (clients wait out Redis's LOADING phase themselves). */
async function ready(port: number): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      await tcpProbe("127.0.0.1", port, 500);
      return;
    } catch (err) {
      if (i >= 100) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
