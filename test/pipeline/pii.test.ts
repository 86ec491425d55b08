import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDemoShop } from "../../src/demo/index.js";
import { TOPICS } from "../../src/pipeline/bus/bus.js";
import { MemoryBus } from "../../src/pipeline/bus/memory.js";
import { HashingEmbedder } from "../../src/pipeline/embed/hashing.js";
import { redact } from "../../src/pipeline/redact.js";
import { startPipeline } from "../../src/pipeline/run.js";
import { openFileBlobs } from "../../src/store/blobs/file.js";
import { migrate } from "../../src/store/migrate.js";
import type { Sql } from "../../src/store/ports.js";
import { openPglite } from "../../src/store/sql/pglite.js";
import { openPgVectors } from "../../src/store/vectors/pgvector.js";

/**
 * The demo shop plants emails, IPs, tokens, card and phone numbers in its logs, span exceptions and
 * RUM errors. After the stream stage, none of them may be found in the database (capsules, samples,
 * aggregates, example traces), the sample blobs or the vector store.
 */
describe("PII never reaches storage", () => {
  let dir: string;
  let sql: Sql;
  const shop = createDemoShop({ seed: 7, days: 2 });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "slo-scout-pii-"));
    sql = await openPglite("pglite://memory");
    await migrate(sql);
    const bus = new MemoryBus({ partitions: 4, capacity: 1_000_000 });
    const pipeline = await startPipeline({
      bus,
      sql,
      blobs: openFileBlobs(`file://${dir}`),
      vectors: await openPgVectors(sql),
      embedder: new HashingEmbedder(),
      redact,
      allowedLatenessMs: 3_600_000,
    });
    const events = [...shop.logs(), ...shop.traces(), ...shop.rum()];
    for (let i = 0; i < events.length; i += 5_000) {
      await bus.publish(
        TOPICS.rawTelemetry,
        events.slice(i, i + 5_000).map((e) => ({ key: e.service, value: e })),
      );
      await bus.flush();
    }
    await pipeline.drain();
    await pipeline.stop();
  }, 600_000);

  afterAll(async () => {
    await sql?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("the demo's logs do carry planted PII (the check below could fail)", () => {
    const planted = [...shop.logs()].flatMap((e) =>
      e.kind === "log" ? shop.findPlantedPii(e.log.body) : [],
    );
    expect(planted.length).toBeGreaterThan(100);
  });

  it("finds none in any table, sample blob or vector", async () => {
    const { rows: tables } = await sql.query<{ tablename: string }>(
      "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()",
    );
    const found: string[] = [];
    let capsuleSamples = 0;
    for (const { tablename } of tables) {
      const { rows } = await sql.query<{ j: string }>(
        `SELECT row_to_json(t)::text AS j FROM "${tablename}" t`,
      );
      for (const r of rows) {
        for (const p of shop.findPlantedPii(r.j)) found.push(`${tablename}: ${p.value}`);
        if (tablename === "capsules") capsuleSamples += (JSON.parse(r.j).samples as string[]).length;
      }
    }
    const blobFiles = readdirSync(join(dir, "samples"), { recursive: true, withFileTypes: true }).filter(
      (d) => d.isFile(),
    );
    for (const f of blobFiles) {
      const text = gunzipSync(readFileSync(join(f.parentPath, f.name))).toString();
      for (const p of shop.findPlantedPii(text)) found.push(`blob ${f.name}: ${p.value}`);
    }
    expect(capsuleSamples).toBeGreaterThan(100);
    expect(blobFiles.length).toBeGreaterThan(10);
    expect((await sql.query("SELECT 1 FROM capsule_vectors")).rowCount).toBeGreaterThan(10);
    expect(found.slice(0, 20)).toEqual([]);
  });
});
