import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seededRandom } from "../../src/core/random.js";
import { migrate } from "../../src/store/migrate.js";
import type { VectorItem } from "../../src/store/ports.js";
import { DIMENSIONS } from "../../src/store/vectors/check.js";
import { openPgVectors, type PgVectorStore } from "../../src/store/vectors/pgvector.js";
import { skipping } from "../helpers/services.js";
import { availableEngines, OPEN_TIMEOUT_MS, type TestDb } from "./engines.js";

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 5);

function randomVector(next: () => number): number[] {
  return Array.from({ length: DIMENSIONS }, () => next() * 2 - 1);
}

function cosine(a: number[], b: number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return dot / Math.sqrt(na * nb);
}

function item(i: number, vector: number[], service = i % 2 ? "checkout" : "cart"): VectorItem {
  return {
    id: `${i.toString(16).padStart(64, "0")}:${T0 + (i % 5) * HOUR}`,
    vector,
    metadata: {
      service,
      windowStart: T0 + (i % 5) * HOUR,
      fingerprint: i.toString(16).padStart(64, "0"),
      template: `template ${i} <*>`,
    },
  };
}

for (const engine of await availableEngines()) {
  describe(`pgvector store on ${engine.name}`, () => {
    let db: TestDb;
    let store: PgVectorStore;
    const next = seededRandom(42);
    const items = Array.from({ length: 400 }, (_, i) => item(i, randomVector(next)));

    let beforeMigration: unknown;

    beforeAll(async () => {
      db = await engine.open({ migrated: false });
      beforeMigration = await openPgVectors(db.sql).catch((err: Error) => err);
      await migrate(db.sql);
      store = await openPgVectors(db.sql);
      for (let i = 0; i < items.length; i += 100) await store.upsert(items.slice(i, i + 100));
    }, OPEN_TIMEOUT_MS);
    afterAll(() => db?.drop());

    it("asks for the migration when the table is missing", () => {
      expect(String(beforeMigration)).toMatch(/capsule_vectors is missing \(run slo-scout migrate\)/);
    });

    it("uses HNSW where pgvector exists and exact search elsewhere", async () => {
      const available = await db.sql.query("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'");
      expect(store.mode).toBe(available.rowCount > 0 ? "hnsw" : "exact");
      if (engine.name === "pglite") expect(store.mode).toBe("hnsw");
    });

    it("finds a stored vector first, with cosine similarity 1", async () => {
      const target = items[123]!;
      const [hit] = await store.search(target.vector, 1);
      expect(hit?.id).toBe(target.id);
      expect(hit?.score).toBeCloseTo(1, 5);
      expect(hit?.metadata).toEqual(target.metadata);
      expect(hit?.vector).toHaveLength(DIMENSIONS);
      expect(hit?.vector[0]).toBeCloseTo(target.vector[0]!, 5);
    });

    it("ranks like an exact cosine search (recall@10 >= 0.9) with scores in order", async () => {
      const q = seededRandom(7);
      let found = 0;
      const queries = 10;
      for (let n = 0; n < queries; n++) {
        const query = randomVector(q);
        const exact = items
          .map((it) => ({ id: it.id, score: cosine(query, it.vector) }))
          .sort((a, b) => b.score - a.score)
          .slice(0, 10);
        const hits = await store.search(query, 10);
        expect(hits).toHaveLength(10);
        for (let i = 1; i < hits.length; i++)
          expect(hits[i - 1]!.score).toBeGreaterThanOrEqual(hits[i]!.score);
        const want = new Set(exact.map((e) => e.id));
        found += hits.filter((h) => want.has(h.id)).length;
        expect(hits[0]!.score).toBeCloseTo(
          cosine(query, items.find((it) => it.id === hits[0]!.id)!.vector),
          4,
        );
      }
      expect(found / (queries * 10)).toBeGreaterThanOrEqual(0.9);
    });

    it("filters by service and window time, still returning k hits when enough match", async () => {
      const query = items[10]!.vector;
      const hits = await store.search(query, 20, {
        service: "checkout",
        since: T0 + HOUR,
        until: T0 + 3 * HOUR,
      });
      expect(hits).toHaveLength(20);
      for (const h of hits) {
        expect(h.metadata.service).toBe("checkout");
        expect(h.metadata.windowStart).toBeGreaterThanOrEqual(T0 + HOUR);
        expect(h.metadata.windowStart).toBeLessThan(T0 + 3 * HOUR);
      }
      expect(await store.search(query, 5, { service: "nobody" })).toEqual([]);
    });

    it("upserting an id again replaces its vector and metadata", async () => {
      const fresh = randomVector(seededRandom(99));
      const replaced = {
        ...items[5]!,
        vector: fresh,
        metadata: { ...items[5]!.metadata, template: "new <*>" },
      };
      await store.upsert([replaced]);
      const got = await store.get(replaced.id);
      expect(got?.metadata.template).toBe("new <*>");
      expect(got?.vector[3]).toBeCloseTo(fresh[3]!, 5);
      const [hit] = await store.search(fresh, 1);
      expect(hit?.id).toBe(replaced.id);
      const count = await db.sql.query("SELECT count(*)::int AS n FROM capsule_vectors");
      expect(count.rows[0]).toEqual({ n: items.length });
      expect(await store.get("missing")).toBeUndefined();
    });

    it("deletes by id, ignoring ids it does not hold", async () => {
      const extra = [item(2000, randomVector(next)), item(2001, randomVector(next))];
      await store.upsert(extra);
      await store.delete([extra[0]!.id, extra[1]!.id, "absent:0"]);
      await store.delete([]);
      expect(await store.get(extra[0]!.id)).toBeUndefined();
      const [hit] = await store.search(extra[1]!.vector, 1);
      expect(hit?.id).not.toBe(extra[1]!.id);
      const count = await db.sql.query("SELECT count(*)::int AS n FROM capsule_vectors");
      expect(count.rows[0]).toEqual({ n: items.length });
    });

    it("rejects vectors it cannot index, naming the problem", async () => {
      await expect(store.upsert([item(1000, [1, 2, 3])])).rejects.toThrow(
        /has 3 dimensions; the vector store expects 384/,
      );
      await expect(store.upsert([item(1001, new Array(DIMENSIONS).fill(0))])).rejects.toThrow(/all zeros/);
      await expect(
        store.upsert([item(1002, [Number.NaN, ...new Array(DIMENSIONS - 1).fill(1)])]),
      ).rejects.toThrow(/non-finite/);
      await expect(store.search([1], 3)).rejects.toThrow(/query vector has 1 dimensions/);
      await expect(store.search(items[0]!.vector, 0)).rejects.toThrow(/k must be a positive whole number/);
      await store.ping();
    });

    it.skipIf(
      skipping(
        engine.name !== "pglite",
        "HNSW plan check on postgres",
        "checked on PGlite, whose pgvector is always there",
      ),
    )("plans the search through the HNSW index", async () => {
      const plan = await db.sql.transaction(async (tx) => {
        await tx.query("SET LOCAL enable_seqscan = off");
        return tx.query<{ "QUERY PLAN": string }>(
          `EXPLAIN SELECT id FROM capsule_vectors ORDER BY embedding <=> $1::vector(${DIMENSIONS}) LIMIT 5`,
          [`[${items[0]!.vector.join(",")}]`],
        );
      });
      expect(plan.rows.map((r) => r["QUERY PLAN"]).join("\n")).toContain("capsule_vectors_embedding");
    });
  });
}
