import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

/**
 * A throwaway Milvus for fault tests, started and stopped by the test itself through the same
 * scripts/services.sh that starts the shared one on 19530 (which a test must never stop: other test
 * files use it at the same time). It gets its own state directory and a free gRPC port; its internal
 * component ports are picked free by scripts/services/milvus/configure.py.
 */

const run = promisify(execFile);
const SCRIPT = new URL("../../scripts/services.sh", import.meta.url).pathname;
/** A fresh start takes 5-15 s; a restart waits about 10 s more for the previous run's sessions to expire. */
export const MILVUS_START_TIMEOUT_MS = 180_000;

export interface MilvusInstance {
  /** host:port for the SDK. */
  readonly address: string;
  /** Starts it again on the same port and data (after `stop`). */
  start(): Promise<void>;
  /** A graceful stop (SIGTERM, SIGKILL after 30 s); the data stays for `start`. */
  stop(): Promise<void>;
  /** Stops it and deletes its data. */
  remove(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Starts a new Milvus; rejects with the script's output when it cannot (not installed, no Python...). */
export async function startMilvus(): Promise<MilvusInstance> {
  const port = await freePort();
  const state = mkdtempSync(join(tmpdir(), "slo-scout-milvus-"));
  const env = { ...process.env, MILVUS_PORT: String(port), SLO_SCOUT_SERVICES_STATE: state };
  const services = async (action: "up" | "down") => {
    try {
      await run("bash", [SCRIPT, action, "milvus"], { env, timeout: MILVUS_START_TIMEOUT_MS });
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; message: string };
      throw new Error(
        `scripts/services.sh ${action} milvus failed: ${(e.stderr || e.stdout || e.message).trim()}`,
      );
    }
  };
  const instance: MilvusInstance = {
    address: `127.0.0.1:${port}`,
    start: () => services("up"),
    stop: () => services("down"),
    async remove() {
      await services("down");
      rmSync(state, { recursive: true, force: true });
    },
  };
  try {
    await instance.start();
  } catch (err) {
    await instance.remove().catch(() => {});
    throw err;
  }
  return instance;
}
