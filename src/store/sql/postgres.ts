import pg from "pg";
import type { Sql } from "../ports.js";

/**
 * Postgres (or TimescaleDB) through a `pg` pool: the production relational store. Results are shaped like
 * PGlite's so the same repositories run on both: bigint comes back as a JS number (epoch ms fit easily).
 */

const INT8 = 20;
const NUMERIC = 1700;

const types = {
  getTypeParser(oid: number, format?: "text" | "binary") {
    if (oid === INT8 || oid === NUMERIC) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format ?? "text");
  },
};

export interface PostgresOptions {
  /** Schemas set as search_path on every pooled connection (tests isolate themselves in a schema). */
  searchPath?: string[];
  max?: number;
}

function describe(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || 5432}${u.pathname}`;
  } catch {
    return "the configured server";
  }
}

type Client = pg.Pool | pg.PoolClient;

function wrap(client: Client, transaction: Sql["transaction"], close: () => Promise<void>): Sql {
  return {
    engine: "postgres",
    async query<T>(text: string, params?: unknown[]) {
      const result = await client.query(text, params);
      return { rows: result.rows as T[], rowCount: result.rowCount ?? result.rows.length };
    },
    async exec(text: string) {
      await client.query(text);
    },
    transaction,
    close,
  };
}

export async function openPostgres(url: string, options: PostgresOptions = {}): Promise<Sql> {
  // search_path goes in the startup options so every pooled connection has it before its first query.
  const searchPath = options.searchPath?.map((s) => `"${s.replace(/"/g, '""')}"`).join(",");
  const pool = new pg.Pool({
    connectionString: url,
    types,
    max: options.max ?? 10,
    ...(searchPath ? { options: `-c search_path=${searchPath}` } : {}),
  });
  // An idle client losing its connection must not crash the process; the next query reports it.
  pool.on("error", () => {});
  try {
    await pool.query("SELECT 1");
  } catch (err) {
    await pool.end().catch(() => {});
    throw new Error(`cannot connect to Postgres at ${describe(url)}: ${(err as Error).message}`);
  }
  const transaction = async <R>(fn: (tx: Sql) => Promise<R>): Promise<R> => {
    const client = await pool.connect();
    // A checked-out client whose server goes away (a restart) emits 'error', which would crash the
    // process unheard; the statement in progress, or the next one, fails with it instead.
    const ignore = () => {};
    client.on("error", ignore);
    const tx: Sql = wrap(
      client,
      (nested) => nested(tx),
      async () => {},
    );
    try {
      await client.query("BEGIN");
      const result = await fn(tx);
      await client.query("COMMIT");
      client.off("error", ignore);
      client.release();
      return result;
    } catch (err) {
      // A connection that failed mid-transaction is destroyed rather than returned to the pool.
      await client.query("ROLLBACK").then(
        () => client.release(),
        (rollbackErr: Error) => client.release(rollbackErr),
      );
      client.off("error", ignore);
      throw err;
    }
  };
  let closed = false;
  return wrap(pool, transaction, async () => {
    if (closed) return;
    closed = true;
    await pool.end();
  });
}
