import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { resolve } from "node:path";
import { PGlite, type Transaction } from "@electric-sql/pglite";
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
  const transaction = <R>(fn: (tx: Sql) => Promise<R>): Promise<R> =>
    db.transaction((tx) => {
      const inner: Sql = wrap(
        tx,
        (nested) => nested(inner),
        async () => {},
      );
      return fn(inner);
    });
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

export async function openPglite(url: string): Promise<Sql> {
  const dataDir = pgliteDataDir(url);
  let unlock = () => {};
  if (dataDir) {
    mkdirSync(dataDir, { recursive: true });
    unlock = lockDataDir(dataDir);
  }
  const db = new PGlite({ ...(dataDir ? { dataDir } : {}), extensions: { vector } });
  try {
    await db.waitReady;
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
