import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { getJsonlGz, putJsonlGz } from "../../src/store/blobs/jsonl.js";
import { openBlobs, openSql, openStores, openVectors } from "../../src/store/open.js";
import type { Sql } from "../../src/store/ports.js";
import { listServices, touchService } from "../../src/store/repos/services.js";
import { pgliteDataDir } from "../../src/store/sql/pglite.js";
import { DIMENSIONS } from "../../src/store/vectors/check.js";
import { postgresUrl } from "../helpers/services.js";
import { availableEngines } from "./engines.js";

const dir = mkdtempSync(join(tmpdir(), "slo-open-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("openStores on the embedded defaults", () => {
  it("creates, migrates and reopens a PGlite database on disk, with blobs and vectors beside it", async () => {
    const config = {
      DATABASE_URL: `pglite://${dir}/db`,
      BLOB_URL: `file://${dir}/blobs`,
      VECTOR_URL: "pgvector://",
    };
    const first = await openStores(config);
    await touchService(first.sql, "checkout", 1000, ["log"]);
    await putJsonlGz(first.blobs, "samples/checkout/0.jsonl.gz", [{ line: "hello" }]);
    const vector = Array.from({ length: DIMENSIONS }, (_, i) => (i % 7) + 1);
    await first.vectors.upsert([
      {
        id: "c1",
        vector,
        metadata: { service: "checkout", windowStart: 0, fingerprint: "f", template: "hello" },
      },
    ]);
    // While it is open, another process cannot open it (a live pid holds the lock).
    writeFileSync(join(dir, "other.lock"), String(process.ppid));
    mkdirSync(join(dir, "other"), { recursive: true });
    await expect(openSql({ DATABASE_URL: `pglite://${dir}/other` })).rejects.toThrow(
      new RegExp(`in use by process ${process.ppid}`),
    );
    await first.close();
    expect(existsSync(join(dir, "db", "PG_VERSION"))).toBe(true);
    expect(existsSync(join(dir, "db.lock"))).toBe(false);
    // A lock left by a process that died is taken over.
    writeFileSync(join(dir, "db.lock"), "999999999");

    // A restart finds everything where it was left.
    const again = await openStores(config);
    try {
      expect((await listServices(again.sql)).map((s) => s.name)).toEqual(["checkout"]);
      expect(await getJsonlGz(again.blobs, "samples/checkout/0.jsonl.gz")).toEqual([{ line: "hello" }]);
      expect((await again.vectors.search(vector, 1))[0]?.id).toBe("c1");
      await again.vectors.ping();
      await again.blobs.ping();
    } finally {
      await again.close();
    }
  }, 180_000);
});

describe("choosing adapters by URL", () => {
  it("maps pglite URLs to data directories", () => {
    expect(pgliteDataDir("pglite://memory")).toBeUndefined();
    expect(pgliteDataDir("pglite://./.slo-scout/db")).toBe(join(process.cwd(), ".slo-scout", "db"));
    expect(pgliteDataDir("pglite:///var/lib/slo")).toBe("/var/lib/slo");
  });

  it("refuses schemes it does not know, naming the key", async () => {
    await expect(openSql({ DATABASE_URL: "mysql://x" })).rejects.toThrow(
      /DATABASE_URL must start with pglite:\/\/ or postgres:\/\//,
    );
    await expect(openBlobs({ BLOB_URL: "gs://b" })).rejects.toThrow(
      /BLOB_URL must start with file:\/\/ or s3:\/\//,
    );
    await expect(openVectors({ VECTOR_URL: "qdrant://x" }, {} as Sql)).rejects.toThrow(
      /VECTOR_URL must start with pgvector:\/\/ or milvus:\/\//,
    );
  });

  it("opens S3 for s3:// and Milvus for milvus://, reporting an unreachable Milvus on use", async () => {
    const blobs = await openBlobs({
      BLOB_URL: "s3://bucket/prefix",
      S3_ENDPOINT: "http://127.0.0.1:9",
      S3_FORCE_PATH_STYLE: true,
    });
    await blobs.close();
    const vectors = await openVectors({ VECTOR_URL: "milvus://127.0.0.1:9" }, {} as Sql);
    // Unreachable Milvus: each call reports it (no unhandled rejection from the eager connect).
    await expect(vectors.ping()).rejects.toThrow(/milvus at 127\.0\.0\.1:9: .*UNAVAILABLE/);
    await expect(vectors.ping()).rejects.toThrow(/milvus at 127\.0\.0\.1:9/);
    await vectors.close();
  }, 120_000);

  it("names the Postgres it cannot reach", async () => {
    await expect(openSql({ DATABASE_URL: "postgres://postgres@127.0.0.1:9/nope" })).rejects.toThrow(
      /cannot connect to Postgres at 127\.0\.0\.1:9\/nope/,
    );
  });
});

const engines = await availableEngines();
describe.runIf(engines.some((e) => e.name === "postgres"))("openSql on postgres", () => {
  it("returns a pg-backed Sql whose bigints come back as numbers and whose transactions roll back", async () => {
    const sql = await openSql({ DATABASE_URL: postgresUrl() });
    try {
      expect(sql.engine).toBe("postgres");
      const { rows } = await sql.query<{ n: number }>("SELECT 1767607200000::bigint AS n");
      expect(rows[0]?.n).toBe(1767607200000);
      const tmp = `slo_tx_${Date.now().toString(36)}`;
      await expect(
        sql.transaction(async (tx) => {
          await tx.exec(`CREATE TABLE ${tmp} (a int)`);
          throw new Error("boom");
        }),
      ).rejects.toThrow("boom");
      expect((await sql.query("SELECT to_regclass($1) AS t", [tmp])).rows[0]).toEqual({ t: null });
    } finally {
      await sql.close();
    }
  });
});
