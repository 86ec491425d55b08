import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join, resolve } from "node:path";
import { setFlagsFromString } from "node:v8";
import { PGlite, type PGliteOptions, type Transaction } from "@electric-sql/pglite";
import { vector } from "@electric-sql/pglite-pgvector";
import type { Sql } from "../ports.js";

/**
 * PGlite (Postgres compiled to WASM, in-process) with its pgvector extension: the embedded default, so a
 * bare machine needs no database server. One process owns a data directory at a time.
 */

/** `pglite://memory` → in memory; `pglite://./.slo-scout/db` → a relative path; `pglite:///var/db` → absolute. */
export function pgliteDataDir(url: string): string | undefined {
  if (!url.startsWith("pglite://"))
    throw new Error(`not a pglite:// URL: ${url} (e.g. pglite://./.slo-scout/db)`);
  const rest = decodeURIComponent(url.slice("pglite://".length));
  if (rest === "" || rest === "memory" || rest === "memory://") return undefined;
  return resolve(rest);
}

type Queryable = Pick<PGlite, "query" | "exec"> | Transaction;

function wrap(db: Queryable, transaction: Sql["transaction"], close: () => Promise<void>): Sql {
  return {
    engine: "pglite",
    async query<T>(text: string, params?: unknown[]) {
      const result = await db.query<T>(text, params as unknown[] | undefined);
      // PGlite reports 0 affected rows for a SELECT; pg reports the rows returned. Match pg.
      return { rows: result.rows, rowCount: result.rows.length || (result.affectedRows ?? 0) };
    },
    async exec(text: string) {
      await db.exec(text);
    },
    transaction,
    close,
  };
}

/** An `Sql` over a PGlite instance the caller built (e.g. restored from a dump with `loadDataDir`). */
export function wrapPglite(db: PGlite): Sql {
  const closeDb = async () => {
    if (!db.closed) await db.close();
  };
  const transaction = async <R>(fn: (tx: Sql) => Promise<R>): Promise<R> => {
    const result = await db.transaction((tx) => {
      const inner: Sql = wrap(
        tx,
        (nested) => nested(inner),
        async () => {},
      );
      return fn(inner);
    });
    await checkpointIfDue(db);
    return result;
  };
  return wrap(db, transaction, closeDb);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * PGlite has no locking of its own and two processes writing one data directory corrupt it, so a
 * sibling `<dir>.lock` holds the owner's pid; a lock left by a dead process is taken over.
 */
function lockDataDir(dataDir: string): () => void {
  const lock = `${dataDir}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lock, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      const release = () => rmSync(lock, { force: true });
      process.once("exit", release);
      return () => {
        process.off("exit", release);
        release();
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const owner = Number(readFileSync(lock, "utf8"));
      if (owner && owner !== process.pid && alive(owner)) {
        throw new Error(
          `the PGlite database at ${dataDir} is in use by process ${owner}; stop it first, or point DATABASE_URL at Postgres to share one database between processes`,
        );
      }
      rmSync(lock, { force: true });
    }
  }
  throw new Error(`cannot lock the PGlite database at ${dataDir} (${lock})`);
}

/**
 * Postgres settings for a database inside this process. PGlite starts Postgres with a server's defaults:
 * 128 MB of shared buffers, resident in this process from the start (125 MB of RSS; with fsync off the OS
 * page cache holds the files anyway), and WAL segments kept for recycling up to 1 GB (353 MB of the 8-day
 * demo's 586 MB on disk was WAL). Full-page images guard against pages torn by an OS crash, which fsync
 * off (PGlite's `-F`) does not survive anyway; a process crash cannot tear a page written by one write().
 */
const EMBEDDED_SETTINGS = [
  "shared_buffers=16MB",
  "max_wal_size=64MB",
  "min_wal_size=32MB",
  "full_page_writes=off",
];

/** WAL written since the last checkpoint after which a transaction is followed by one (half max_wal_size). */
const CHECKPOINT_WAL_BYTES = 32 * 1024 * 1024;

/**
 * Single-user Postgres has no checkpointer, so nothing checkpoints on WAL volume and the WAL grows with
 * every write until the database closes. After each transaction this does what the checkpointer would:
 * a CHECKPOINT once the WAL since the last one passes CHECKPOINT_WAL_BYTES, which recycles the segments.
 */
async function checkpointIfDue(db: Queryable): Promise<void> {
  const { rows } = await db.query<{ bytes: number }>(
    "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), redo_lsn)::float8 AS bytes FROM pg_control_checkpoint()",
  );
  if ((rows[0]?.bytes ?? 0) >= CHECKPOINT_WAL_BYTES) await db.exec("CHECKPOINT");
}

const PGLITE_OPTIONS = {
  extensions: { vector },
  startParams: [...PGlite.defaultStartParams, ...EMBEDDED_SETTINGS.flatMap((s) => ["-c", s])],
};

/**
 * Running Postgres inside this process, favour its memory over V8's peak speed; a process on a Postgres
 * server never gets here. V8's optimizing tier recompiles PGlite's hot WASM functions beside their baseline
 * code: about 180 MB more RSS for no measured gain (`ingest --demo --days 2`: 16.1 s of CPU baseline-only,
 * 17.4 s with tier-up; `analyze checkout` on the 7-day demo: 3.3-3.6 s against 4.8-4.9 s). The flag is
 * read when a module compiles, so setting it before the first PGlite opens is enough.
 */
function favourMemory(): void {
  setFlagsFromString("--liftoff-only");
}

/**
 * A new data directory, initialized in memory and dumped: PGlite's own first start on disk runs initdb in a
 * second Postgres beside the first and copies its dump over, 850 MB of RSS for some seconds (710 MB this way).
 */
async function initializedDataDir(): Promise<Blob> {
  const scratch = new PGlite(PGLITE_OPTIONS);
  try {
    await scratch.waitReady;
    return await scratch.dumpDataDir("none");
  } finally {
    await scratch.close();
  }
}

export async function openPglite(url: string): Promise<Sql> {
  favourMemory();
  const dataDir = pgliteDataDir(url);
  let unlock = () => {};
  if (dataDir) {
    mkdirSync(dataDir, { recursive: true });
    unlock = lockDataDir(dataDir);
  }
  let db: PGlite;
  try {
    const fresh = dataDir !== undefined && !existsSync(join(dataDir, "PG_VERSION"));
    const options: PGliteOptions = {
      ...(dataDir ? { dataDir } : {}),
      ...(fresh ? { loadDataDir: await initializedDataDir() } : {}),
      ...PGLITE_OPTIONS,
    };
    db = new PGlite(options);
    await db.waitReady;
    // PGlite keeps the options object it was given for as long as it runs: without this the 40 MB dump
    // of a new data directory stayed in memory until the process ended.
    delete options.loadDataDir;
  } catch (err) {
    unlock();
    throw new Error(`cannot open PGlite database at ${dataDir ?? "memory"}: ${(err as Error).message}`);
  }
  const sql = wrapPglite(db);
  return {
    ...sql,
    async close() {
      try {
        await sql.close();
      } finally {
        unlock();
      }
    },
  };
}
