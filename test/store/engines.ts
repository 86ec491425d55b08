import { createHash, randomBytes } from "node:crypto";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { vector } from "@electric-sql/pglite-pgvector";
import pg from "pg";
import { loadMigrations, migrate } from "../../src/store/migrate.js";
import type { Sql } from "../../src/store/ports.js";
import { wrapPglite } from "../../src/store/sql/pglite.js";
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

/**
 * Initialising a PGlite database (initdb in WASM) is most of a store test's time, so each kind of test
 * database is built once, dumped to a file in the temp dir (keyed by PGlite's version and the migrations)
 * and restored from there. `openPglite` itself is exercised by the on-disk test in open.test.ts.
 */

/** For beforeAll hooks that open a database: PGlite's first start can be slow on a busy machine. */
export const OPEN_TIMEOUT_MS = 180_000;
async function templateFile(migrated: boolean): Promise<string> {
  const version = JSON.parse(
    readFileSync(new URL("../../node_modules/@electric-sql/pglite/package.json", import.meta.url), "utf8"),
  ).version as string;
  const key = createHash("sha256")
    .update(version)
    .update(migrated ? (await loadMigrations()).map((m) => m.checksum).join() : "blank")
    .digest("hex")
    .slice(0, 16);
  return join(tmpdir(), `slo-scout-pglite-${key}.tgz`);
}

const pglite: Engine = {
  name: "pglite",
  async open({ migrated = true } = {}) {
    const file = await templateFile(migrated);
    if (existsSync(file)) {
      const db = new PGlite({ extensions: { vector }, loadDataDir: new Blob([readFileSync(file)]) });
      const sql = wrapPglite(db);
      return { sql, drop: () => sql.close() };
    }
    // No template yet: build the database, leave a dump for the next test, and use this one.
    const db = new PGlite({ extensions: { vector } });
    await db.waitReady;
    const sql = wrapPglite(db);
    if (migrated) await migrate(sql);
    const dump = await db.dumpDataDir("gzip");
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    writeFileSync(tmp, Buffer.from(await dump.arrayBuffer()));
    renameSync(tmp, file);
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
