import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { openVectors } from "../../src/store/open.js";
import type { Sql, VectorItem, VectorStore } from "../../src/store/ports.js";
import { DIMENSIONS } from "../../src/store/vectors/check.js";
import { type PendingVectorStore, withPendingVectors } from "../../src/store/vectors/pending.js";
import { availableEngines, OPEN_TIMEOUT_MS, type TestDb } from "./engines.js";

const T0 = Date.UTC(2026, 0, 5);

function item(n: number, template = `template ${n} <*>`): VectorItem {
  const fingerprint = n.toString(16).padStart(64, "0");
  return {
    id: `${fingerprint}:${T0}`,
    vector: Array.from({ length: DIMENSIONS }, (_, i) => Math.sin(n * 31 + i) + 0.01),
    metadata: { service: "checkout", windowStart: T0, fingerprint, template },
  };
}

/** A vector store that is up or down on command and records what it was sent. */
function switchableStore() {
  const received: VectorItem[][] = [];
  const deleted: string[][] = [];
  const state = { down: false, during: undefined as (() => Promise<void>) | undefined };
  const store: VectorStore = {
    async upsert(items) {
      if (state.down) throw new Error("14 UNAVAILABLE: connect ECONNREFUSED 127.0.0.1:19599\nstack");
      await state.during?.();
      received.push(items);
    },
    search: async () => [],
    get: async () => undefined,
    async delete(ids) {
      deleted.push(ids);
    },
    ping: async () => {},
    close: async () => {},
  };
  return { store, received, deleted, state };
}

interface PendingRow {
  id: string;
  attempts: number;
  last_error: string;
}

for (const engine of await availableEngines()) {
  describe(`pending vectors on ${engine.name}`, () => {
    let db: TestDb;
    let clock = 1_000;
    beforeAll(async () => {
      db = await engine.open();
    }, OPEN_TIMEOUT_MS);
    afterAll(() => db?.drop());
    beforeEach(() => db.sql.query("DELETE FROM pending_vectors"));

    const open = (store: VectorStore, sql: Sql = db.sql): PendingVectorStore =>
      withPendingVectors(sql, store, { retryMs: 0, now: () => clock++ });
    const pending = async () =>
      (
        await db.sql.query<PendingRow>(
          "SELECT id, attempts, last_error FROM pending_vectors ORDER BY queued_at, id",
        )
      ).rows;

    it("sends straight to the store once the queue is known to be empty", async () => {
      const fake = switchableStore();
      const store = open(fake.store);
      expect(await store.retryPending()).toBe(0);
      await store.upsert([item(1)]);
      expect(fake.received).toEqual([[item(1)]]);
      expect(await pending()).toEqual([]);
    });

    it("queues refused vectors durably, queues later ones behind them, and sends them all once it answers", async () => {
      const fake = switchableStore();
      const store = open(fake.store);
      await store.retryPending();
      fake.state.down = true;
      await store.upsert([item(1), item(2)]);
      // Queued behind the refused ones without trying the store again.
      fake.state.down = false;
      await store.upsert([item(3)]);
      expect(fake.received).toEqual([]);
      expect((await pending()).map((r) => r.id)).toEqual([item(1).id, item(2).id, item(3).id]);
      expect((await pending())[0]!.last_error).toBe("14 UNAVAILABLE: connect ECONNREFUSED 127.0.0.1:19599");

      fake.state.down = true;
      expect(await store.retryPending()).toBe(3);
      expect((await pending()).map((r) => r.attempts)).toEqual([1, 1, 1]);

      fake.state.down = false;
      expect(await store.retryPending()).toBe(0);
      const sent = fake.received.flat();
      expect(sent.map((s) => s.id)).toEqual([item(1).id, item(2).id, item(3).id]);
      expect(sent[1]!.metadata).toEqual(item(2).metadata);
      // real[] keeps float32, which is what Milvus stores anyway.
      const drift = Math.max(...sent[1]!.vector.map((x, i) => Math.abs(x - item(2).vector[i]!)));
      expect(drift).toBeLessThan(1e-6);

      await store.upsert([item(4)]);
      expect(fake.received.at(-1)).toEqual([item(4)]);
    });

    it("keeps a newer vector queued while a retry was sending the older one", async () => {
      const fake = switchableStore();
      const store = open(fake.store);
      fake.state.down = true;
      await store.upsert([item(1, "old <*>")]);
      fake.state.down = false;
      // While the retry sends the old row, the capsule's vector is queued again (another batch).
      fake.state.during = async () => {
        fake.state.during = undefined;
        await store.upsert([item(1, "new <*>")]);
      };
      expect(await store.retryPending()).toBe(0);
      expect(fake.received.flat().map((s) => s.metadata.template)).toEqual(["old <*>", "new <*>"]);
    });

    it("deletes queued vectors too, so a retry cannot bring a deleted capsule back", async () => {
      const fake = switchableStore();
      const store = open(fake.store);
      fake.state.down = true;
      await store.upsert([item(1), item(2)]);
      await store.delete([item(1).id]);
      expect(fake.deleted).toEqual([[item(1).id]]);
      expect((await pending()).map((r) => r.id)).toEqual([item(2).id]);
    });

    it("is what openVectors gives for milvus://: vectors for an unreachable Milvus wait in the database", async () => {
      const store = await openVectors({ VECTOR_URL: "milvus://127.0.0.1:9/capsules" }, db.sql);
      try {
        await store.upsert([item(1)]);
        expect((await pending()).map((r) => r.id)).toEqual([item(1).id]);
        expect(await (store as PendingVectorStore).retryPending()).toBe(1);
        expect((await pending())[0]!.last_error).toMatch(/UNAVAILABLE/);
      } finally {
        await store.close();
      }
    });

    it("throws only when the database refuses the vectors as well, and never queues invalid ones", async () => {
      const fake = switchableStore();
      fake.state.down = true;
      const failingDb: Sql = {
        ...db.sql,
        query: async () => {
          throw new Error("connect ECONNREFUSED 127.0.0.1:5432");
        },
      };
      await expect(open(fake.store, failingDb).upsert([item(1)])).rejects.toThrow(
        "1 vectors could not be queued (waiting behind pending vectors): connect ECONNREFUSED 127.0.0.1:5432",
      );
      const store = open(fake.store, failingDb);
      await store.retryPending().catch(() => {});
      await expect(store.upsert([item(1)])).rejects.toThrow(/could not be queued/);
      await expect(open(fake.store).upsert([{ ...item(2), vector: [1, 2] }])).rejects.toThrow(
        /has 2 dimensions/,
      );
      expect(await pending()).toEqual([]);
    });
  });
}
