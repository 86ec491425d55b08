import { execFile } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "./free-port.js";

/**
 * A throwaway Postgres cluster of a test's own (initdb in a temp dir, on a free loopback port), for
 * tests that stop and start the server: the shared Postgres on 5432 serves every other test file in
 * parallel and must never go down. Debian keeps the server binaries outside PATH, under
 * /usr/lib/postgresql/<version>/bin; PG_BIN overrides the search.
 */

const run = promisify(execFile);

export interface PostgresInstance {
  /** postgres://postgres@127.0.0.1:<port>/postgres (trust authentication). */
  readonly url: string;
  readonly port: number;
  /** `pg_ctl stop -m fast`: sessions are ended, the server shuts down cleanly. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops the server if it runs and deletes the cluster. */
  remove(): Promise<void>;
}

/** The directory holding initdb and pg_ctl: PG_BIN, else the newest Debian install, else PATH. */
function binDir(): string {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, "bin", "initdb")))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  return versions[0] ? join(root, versions[0], "bin") : "";
}

/** initdb and the server refuse to run as root: as root, run them as the `postgres` user. */
async function asServerUser(): Promise<{ prefix: string[]; owner?: { uid: number; gid: number } }> {
  if (process.getuid?.() !== 0) return { prefix: [] };
  const id = async (flag: string) => Number((await run("id", [flag, "postgres"])).stdout.trim());
  return { prefix: ["runuser", "-u", "postgres", "--"], owner: { uid: await id("-u"), gid: await id("-g") } };
}

/**
 * Creates and starts a cluster; throws with the failing command's output when it cannot. A test's cluster
 * is small and has fsync off (it needs a clean stop and start, not crash safety); a benchmark asks for
 * fsync and Postgres's default shared buffers (128MB), the real cost.
 */
export async function startPostgresInstance(
  options: { fsync?: boolean; sharedBuffers?: string } = {},
): Promise<PostgresInstance> {
  const bin = binDir();
  const tool = (name: string) => (bin ? join(bin, name) : name);
  const user = await asServerUser();
  const exec = async (args: string[]) => {
    const [file, ...rest] = [...user.prefix, ...args];
    try {
      await run(file!, rest, { timeout: 60_000 });
    } catch (err) {
      const e = err as Error & { stderr?: string };
      throw new Error(`${args[0]} failed: ${(e.stderr || e.message).trim().split("\n")[0]}`);
    }
  };

  const dir = mkdtempSync(join(tmpdir(), "slo-scout-pg-"));
  if (user.owner) chownSync(dir, user.owner.uid, user.owner.gid);
  const data = join(dir, "data");
  const port = await freePort();
  let running = false;
  const pgCtl = (...args: string[]) => exec([tool("pg_ctl"), "-D", data, "-w", "-t", "60", ...args]);

  const instance: PostgresInstance = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    async start() {
      // The socket goes in the cluster's own directory, so no shared /var/run/postgresql is needed.
      const settings =
        `-p ${port} -c listen_addresses=127.0.0.1 -k ${dir} -c shared_buffers=${options.sharedBuffers ?? "16MB"}` +
        (options.fsync ? "" : " -c fsync=off");
      await pgCtl("-o", settings, "-l", join(dir, "server.log"), "start");
      running = true;
    },
    async stop() {
      await pgCtl("-m", "fast", "stop");
      running = false;
    },
    async remove() {
      if (running) await pgCtl("-m", "immediate", "stop").catch(() => {});
      running = false;
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await exec([tool("initdb"), "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"]);
    await instance.start();
  } catch (err) {
    await instance.remove();
    throw err;
  }
  return instance;
}
