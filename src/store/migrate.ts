import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { Sql } from "./ports.js";

/**
 * Applies the numbered SQL files in `schemas/migrations/` in order, each in its own transaction, and
 * records them in `schema_migrations`. Safe to run twice and from several processes at once: an advisory
 * lock serialises migrators and each file is re-checked under it.
 */

export const MIGRATIONS_DIR = fileURLToPath(new URL("../../schemas/migrations/", import.meta.url));

/** Any fixed number; every SLO-Scout migrator takes this lock. */
const LOCK_KEY = 5_105_707_100;

export interface Migration {
  /** File name without `.sql`, e.g. `0001_init`. */
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrateResult {
  applied: string[];
  /** Migrations that were already recorded. */
  skipped: string[];
}

export async function loadMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith(".sql")).sort();
  const out: Migration[] = [];
  for (const file of files) {
    if (!/^\d{4}_[a-z0-9_]+\.sql$/.test(file)) {
      throw new Error(`migration file ${file} must be named NNNN_name.sql (e.g. 0002_add_index.sql)`);
    }
    const sql = await readFile(`${dir}/${file}`, "utf8");
    out.push({ name: file.slice(0, -4), sql, checksum: createHash("sha256").update(sql).digest("hex") });
  }
  return out;
}

export async function migrate(sql: Sql, migrations?: Migration[]): Promise<MigrateResult> {
  const list = migrations ?? (await loadMigrations());
  const result: MigrateResult = { applied: [], skipped: [] };
  for (const m of list) {
    const applied = await sql.transaction(async (tx) => {
      await tx.query("SELECT pg_advisory_xact_lock($1)", [LOCK_KEY]);
      await tx.exec(
        "CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, checksum text NOT NULL, applied_at bigint NOT NULL)",
      );
      const { rows } = await tx.query<{ checksum: string }>(
        "SELECT checksum FROM schema_migrations WHERE name = $1",
        [m.name],
      );
      if (rows[0]) {
        if (rows[0].checksum !== m.checksum) {
          throw new Error(
            `migration ${m.name} was changed after it was applied; add a new migration file instead of editing it`,
          );
        }
        return false;
      }
      try {
        await tx.exec(m.sql);
      } catch (err) {
        throw new Error(`migration ${m.name} failed: ${(err as Error).message}`);
      }
      await tx.query("INSERT INTO schema_migrations (name, checksum, applied_at) VALUES ($1, $2, $3)", [
        m.name,
        m.checksum,
        Date.now(),
      ]);
      return true;
    });
    (applied ? result.applied : result.skipped).push(m.name);
  }
  return result;
}

export interface StoreFeatures {
  /** `pgvector` when capsule_vectors.embedding is a vector column (HNSW); `exact` when it is real[]. */
  vectors: "pgvector" | "exact";
  timescale: boolean;
}

/** What the migrations could switch on in this database. */
export async function storeFeatures(sql: Sql): Promise<StoreFeatures> {
  const { rows } = await sql.query<{ type: string | null; ts: boolean }>(
    `SELECT
       (SELECT format_type(atttypid, atttypmod) FROM pg_attribute
         WHERE attrelid = to_regclass('capsule_vectors') AND attname = 'embedding') AS type,
       EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') AS ts`,
  );
  const row = rows[0];
  return {
    vectors: row?.type?.startsWith("vector") === true ? "pgvector" : "exact",
    timescale: row?.ts === true,
  };
}
