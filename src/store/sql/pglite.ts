import { mkdirSync } from "node:fs";
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

export async function openPglite(url: string): Promise<Sql> {
  const dataDir = pgliteDataDir(url);
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const db = new PGlite({ ...(dataDir ? { dataDir } : {}), extensions: { vector } });
  try {
    await db.waitReady;
  } catch (err) {
    throw new Error(`cannot open PGlite database at ${dataDir ?? "memory"}: ${(err as Error).message}`);
  }
  return wrapPglite(db);
}
