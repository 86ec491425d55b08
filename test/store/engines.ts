import { randomBytes } from "node:crypto";
import pg from "pg";
import { migrate } from "../../src/store/migrate.js";
import type { Sql } from "../../src/store/ports.js";
import { openPglite } from "../../src/store/sql/pglite.js";
import { openPostgres } from "../../src/store/sql/postgres.js";
import { postgresUrl, requireService } from "../helpers/services.js";

/**
 * The engines every store suite runs on: PGlite in memory always, Postgres when it answers (in CI it must).
 * Each Postgres database lives in a fresh schema that is dropped afterwards, so parallel test files and
 * other users of the server do not see each other.
 */

export interface TestDb {
  sql: Sql;
  /** Closes the connection and drops what the test created. */
  drop(): Promise<void>;
}

export interface Engine {
  name: "pglite" | "postgres";
  /** A new, empty database; migrated unless `migrated` is false. */
  open(options?: { migrated?: boolean }): Promise<TestDb>;
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: postgresUrl() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const pglite: Engine = {
  name: "pglite",
  async open({ migrated = true } = {}) {
    const sql = await openPglite("pglite://memory");
    if (migrated) await migrate(sql);
    return { sql, drop: () => sql.close() };
  },
};

const postgres: Engine = {
  name: "postgres",
  async open({ migrated = true } = {}) {
    const schema = `slo_test_${randomBytes(5).toString("hex")}`;
    const withVector = await admin(async (c) => {
      await c.query(`CREATE SCHEMA ${schema}`);
      // An extension created from the test schema would be dropped with it, under everyone else's feet.
      const { rows } = await c.query("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'");
      if (rows.length) await c.query("CREATE EXTENSION IF NOT EXISTS vector SCHEMA public");
      return rows.length > 0;
    });
    // public is on the path only to find pgvector's type; otherwise tables there could leak into a test.
    const searchPath = withVector ? [schema, "public"] : [schema];
    const sql = await openPostgres(postgresUrl(), { searchPath, max: 4 });
    if (migrated) await migrate(sql);
    return {
      sql,
      async drop() {
        await sql.close();
        await admin((c) => c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
      },
    };
  },
};

let postgresUp: Promise<boolean> | undefined;

/** The engines reachable here; Postgres is probed once per test file. */
export async function availableEngines(): Promise<Engine[]> {
  postgresUp ??= requireService("postgres", () => admin((c) => c.query("SELECT 1")));
  return (await postgresUp) ? [pglite, postgres] : [pglite];
}
