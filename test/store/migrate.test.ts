import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadMigrations, type Migration, migrate, storeFeatures } from "../../src/store/migrate.js";
import { availableEngines, OPEN_TIMEOUT_MS, type TestDb } from "./engines.js";

const TABLES = [
  "services",
  "journeys",
  "slis",
  "slos",
  "proposals",
  "evidence",
  "artifacts",
  "jobs",
  "audit_log",
  "capsules",
  "capsule_vectors",
  "fingerprint_state",
  "metric_series",
  "metric_samples",
  "route_stats",
  "edge_stats",
  "example_traces",
  "web_vital_stats",
  "consumer_offsets",
  "window_watermarks",
];

const extra = (name: string, sql: string): Migration => ({ name, sql, checksum: name + sql });

for (const engine of await availableEngines()) {
  describe(`migrations on ${engine.name}`, () => {
    let db: TestDb;
    beforeAll(async () => {
      db = await engine.open({ migrated: false });
    }, OPEN_TIMEOUT_MS);
    afterAll(() => db?.drop());

    it("apply once, then report nothing to do", async () => {
      const names = (await loadMigrations()).map((m) => m.name);
      expect(names[0]).toBe("0001_init");
      const first = await migrate(db.sql);
      expect(first.applied).toEqual(names);
      const second = await migrate(db.sql);
      expect(second).toEqual({ applied: [], skipped: names });
      const { rows } = await db.sql.query<{ name: string }>(
        "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()",
      );
      const tables = rows.map((r) => r.name);
      for (const t of TABLES) expect(tables).toContain(t);
      const recorded = await db.sql.query<{ name: string }>(
        "SELECT name FROM schema_migrations ORDER BY name",
      );
      expect(recorded.rows.map((r) => r.name)).toEqual(names);
    });

    it("a failing migration changes nothing and is not recorded", async () => {
      const all = await loadMigrations();
      const broken = extra("9999_broken", "CREATE TABLE half_done (a int); SELECT no_such_function();");
      await expect(migrate(db.sql, [...all, broken])).rejects.toThrow(/migration 9999_broken failed/);
      const t = await db.sql.query("SELECT to_regclass('half_done') AS t");
      expect(t.rows[0]).toEqual({ t: null });
      const recorded = await db.sql.query("SELECT 1 FROM schema_migrations WHERE name = '9999_broken'");
      expect(recorded.rowCount).toBe(0);
    });

    it("later migrations apply in order after earlier ones", async () => {
      const all = await loadMigrations();
      const next = [
        extra("0998_a", "CREATE TABLE mig_a (x int)"),
        extra("0999_b", "INSERT INTO mig_a VALUES (1)"),
      ];
      expect((await migrate(db.sql, [...all, ...next])).applied).toEqual(["0998_a", "0999_b"]);
      expect((await db.sql.query("SELECT x FROM mig_a")).rows).toEqual([{ x: 1 }]);
    });

    it("refuses to run when an applied migration was edited", async () => {
      const [init] = await loadMigrations();
      await expect(migrate(db.sql, [{ ...init!, checksum: "edited" }])).rejects.toThrow(
        /0001_init was changed after it was applied/,
      );
    });

    it("reports which optional extensions the database got", async () => {
      const features = await storeFeatures(db.sql);
      const available = await db.sql.query("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'");
      expect(features.vectors).toBe(available.rowCount > 0 ? "pgvector" : "exact");
      if (engine.name === "pglite") expect(features.vectors).toBe("pgvector");
      expect(features.timescale).toBe(false);
    });
  });
}

const [, postgres] = await availableEngines();
describe.skipIf(!postgres)("concurrent migrators on postgres", () => {
  it("exactly one of several processes applies each migration", async () => {
    const db = await postgres!.open({ migrated: false });
    try {
      // Each migrator takes its own pooled connection, as separate processes starting at once would.
      const results = await Promise.all([migrate(db.sql), migrate(db.sql), migrate(db.sql)]);
      const names = (await loadMigrations()).map((m) => m.name);
      expect(results.flatMap((r) => r.applied).sort()).toEqual(names);
    } finally {
      await db.drop();
    }
  });
});

describe("migration files", () => {
  it("must be named NNNN_name.sql", async () => {
    const dir = mkdtempSync(join(tmpdir(), "slo-mig-"));
    writeFileSync(join(dir, "0001_ok.sql"), "SELECT 1");
    writeFileSync(join(dir, "two.sql"), "SELECT 2");
    await expect(loadMigrations(dir)).rejects.toThrow(/two.sql must be named NNNN_name.sql/);
  });

  it("are loaded in numeric order", async () => {
    const dir = mkdtempSync(join(tmpdir(), "slo-mig-"));
    writeFileSync(join(dir, "0002_b.sql"), "SELECT 2");
    writeFileSync(join(dir, "0001_a.sql"), "SELECT 1");
    expect((await loadMigrations(dir)).map((m) => m.name)).toEqual(["0001_a", "0002_b"]);
  });
});
