import { MilvusClient } from "@zilliz/milvus2-sdk-node";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { VectorItem, VectorStore } from "../../src/store/ports.js";
import { DIMENSIONS } from "../../src/store/vectors/check.js";
import {
  DEFAULT_COLLECTION,
  filterExpression,
  type MilvusApi,
  openMilvusVectors,
  parseMilvusUrl,
  TEMPLATE_MAX_BYTES,
} from "../../src/store/vectors/milvus.js";
import { requireService } from "../helpers/services.js";

const OK = { error_code: "Success", reason: "" };
const T0 = Date.UTC(2026, 0, 5);

function vec(seed: number): number[] {
  return Array.from({ length: DIMENSIONS }, (_, i) => Math.sin(seed * 31 + i) + 0.01);
}

function item(n: number, template = `template ${n} <*>`): VectorItem {
  const fingerprint = n.toString(16).padStart(64, "0");
  return {
    id: `${fingerprint}:${T0}`,
    vector: vec(n),
    metadata: { service: "checkout", windowStart: T0, fingerprint, template },
  };
}

function fakeClient(over: Partial<Record<keyof MilvusApi, unknown>> = {}) {
  const base = {
    hasCollection: vi.fn(async () => ({ status: OK, value: false })),
    describeCollection: vi.fn(async () => ({
      status: OK,
      schema: { fields: [{ name: "embedding", type_params: [{ key: "dim", value: String(DIMENSIONS) }] }] },
    })),
    createCollection: vi.fn(async () => OK),
    createIndex: vi.fn(async () => OK),
    loadCollectionSync: vi.fn(async () => OK),
    insert: vi.fn(async () => ({ status: OK })),
    search: vi.fn(async () => ({
      status: OK,
      results: [
        {
          id: item(1).id,
          score: 0.93,
          service: "checkout",
          window_start: String(T0),
          fingerprint: item(1).metadata.fingerprint,
          template: "template 1 <*>",
          embedding: vec(1),
        },
      ],
    })),
    get: vi.fn(async () => ({ status: OK, data: [] })),
    delete: vi.fn(async () => ({ status: OK })),
    checkHealth: vi.fn(async () => ({ isHealthy: true, reasons: [] })),
    closeConnection: vi.fn(async () => "CLOSED"),
  };
  const fake = { ...base, ...over } as typeof base;
  return { fake, client: fake as unknown as MilvusApi };
}

describe("Milvus adapter requests (client mocked)", () => {
  it("creates the collection with the capsule schema, an HNSW/COSINE index, and loads it", async () => {
    const { fake, client } = fakeClient();
    const store = await openMilvusVectors({ url: "milvus://milvus:19530", client });
    await store.upsert([item(1)]);
    expect(fake.hasCollection).toHaveBeenCalledWith({ collection_name: DEFAULT_COLLECTION });
    expect(fake.createCollection).toHaveBeenCalledWith({
      collection_name: DEFAULT_COLLECTION,
      description: "SLO-Scout capsule embeddings",
      consistency_level: "Session",
      fields: [
        { name: "id", data_type: "VarChar", is_primary_key: true, autoID: false, max_length: 128 },
        { name: "service", data_type: "VarChar", max_length: 256, is_partition_key: true },
        { name: "window_start", data_type: "Int64" },
        { name: "fingerprint", data_type: "VarChar", max_length: 64 },
        { name: "template", data_type: "VarChar", max_length: TEMPLATE_MAX_BYTES },
        { name: "embedding", data_type: "FloatVector", dim: 384 },
      ],
    });
    expect(fake.createIndex).toHaveBeenCalledWith({
      collection_name: DEFAULT_COLLECTION,
      field_name: "embedding",
      index_name: "embedding_hnsw",
      index_type: "HNSW",
      metric_type: "COSINE",
      params: { M: 16, efConstruction: 200 },
    });
    expect(fake.loadCollectionSync).toHaveBeenCalledWith({ collection_name: DEFAULT_COLLECTION });
    // The collection is set up once per store, not per call.
    await store.upsert([item(2)]);
    expect(fake.createCollection).toHaveBeenCalledTimes(1);
    expect(fake.hasCollection).toHaveBeenCalledTimes(1);
  });

  it("upserts rows keyed by id (delete, then insert), de-duplicated, with long templates cut to the VarChar limit", async () => {
    const { fake, client } = fakeClient();
    const store = await openMilvusVectors({ url: "milvus://milvus:19530/capsules_test", client });
    const long = item(3, "é".repeat(TEMPLATE_MAX_BYTES));
    await store.upsert([item(1), { ...item(1), metadata: { ...item(1).metadata, template: "newer" } }, long]);
    // Delete then insert: the server on PyPI (2.3.5) puts upserted rows in the wrong partition.
    expect(fake.delete).toHaveBeenCalledWith({
      collection_name: "capsules_test",
      ids: [item(1).id, long.id],
    });
    expect(fake.insert).toHaveBeenCalledTimes(1);
    expect(fake.delete.mock.invocationCallOrder[0]).toBeLessThan(fake.insert.mock.invocationCallOrder[0]!);
    const req = (fake.insert.mock.calls as unknown[][])[0]![0] as {
      collection_name: string;
      data: Record<string, unknown>[];
    };
    expect(req.collection_name).toBe("capsules_test");
    expect(req.data).toHaveLength(2);
    expect(req.data[0]).toEqual({
      id: item(1).id,
      service: "checkout",
      window_start: T0,
      fingerprint: item(1).metadata.fingerprint,
      template: "newer",
      embedding: vec(1),
    });
    const cut = req.data[1]!.template as string;
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(TEMPLATE_MAX_BYTES);
    expect(cut).toBe("é".repeat(TEMPLATE_MAX_BYTES / 2));
  });

  it("searches with COSINE, ef >= k, the filter expression and the output fields", async () => {
    const { fake, client } = fakeClient({ hasCollection: vi.fn(async () => ({ status: OK, value: true })) });
    const store = await openMilvusVectors({ url: "milvus://milvus:19530", client });
    const hits = await store.search(vec(1), 100, { service: 'chec"kout', since: T0, until: T0 + 3_600_000 });
    expect(fake.createCollection).not.toHaveBeenCalled();
    expect(fake.describeCollection).toHaveBeenCalledWith({ collection_name: DEFAULT_COLLECTION });
    expect(fake.search).toHaveBeenCalledWith({
      collection_name: DEFAULT_COLLECTION,
      anns_field: "embedding",
      data: vec(1),
      limit: 100,
      metric_type: "COSINE",
      params: { ef: 100 },
      output_fields: ["id", "service", "window_start", "fingerprint", "template", "embedding"],
      filter: `service == "chec\\"kout" and window_start >= ${T0} and window_start < ${T0 + 3_600_000}`,
    });
    expect(hits).toEqual([{ ...item(1), score: 0.93 }]);

    await store.search(vec(2), 5);
    const plain = (fake.search.mock.calls as unknown[][])[1]![0] as Record<string, unknown>;
    expect(plain).not.toHaveProperty("filter");
    expect(plain.params).toEqual({ ef: 64 });
  });

  it("gets one item by id", async () => {
    const row = {
      id: item(4).id,
      service: "checkout",
      window_start: T0,
      fingerprint: item(4).metadata.fingerprint,
      template: "template 4 <*>",
      embedding: vec(4),
    };
    const { fake, client } = fakeClient({ get: vi.fn(async () => ({ status: OK, data: [row] })) });
    const store = await openMilvusVectors({ url: "milvus://milvus:19530", client });
    expect(await store.get(item(4).id)).toEqual(item(4));
    expect(fake.get).toHaveBeenCalledWith({
      collection_name: DEFAULT_COLLECTION,
      ids: [item(4).id],
      output_fields: ["id", "service", "window_start", "fingerprint", "template", "embedding"],
    });
  });

  it("turns Milvus error statuses into errors that name the operation", async () => {
    const { client } = fakeClient({
      insert: vi.fn(async () => ({
        status: { error_code: "UnexpectedError", reason: "disk quota exceeded" },
      })),
    });
    const store = await openMilvusVectors({ url: "milvus://milvus:19530", client });
    await expect(store.upsert([item(1)])).rejects.toThrow("milvus: insert failed: disk quota exceeded");
  });

  it("deletes by id, de-duplicated, and sends nothing for no ids", async () => {
    const { fake, client } = fakeClient();
    const store = await openMilvusVectors({ url: "milvus://milvus:19530", client });
    await store.delete([]);
    expect(fake.delete).not.toHaveBeenCalled();
    await store.delete([item(1).id, item(2).id, item(1).id]);
    expect(fake.delete).toHaveBeenCalledWith({
      collection_name: DEFAULT_COLLECTION,
      ids: [item(1).id, item(2).id],
    });
  });

  it("treats a non-zero status code as a failure even when error_code says Success", async () => {
    // What Milvus Lite 2.5 answers to an index type it does not support.
    const { client } = fakeClient({
      createIndex: vi.fn(async () => ({
        error_code: "Success",
        code: 65535,
        reason: "invalid index type: HNSW",
      })),
    });
    const store = await openMilvusVectors({ url: "milvus://milvus:19530", client });
    await expect(store.upsert([item(1)])).rejects.toThrow(
      "milvus: createIndex failed: invalid index type: HNSW",
    );
  });

  it("refuses an existing collection of another dimension", async () => {
    const { fake, client } = fakeClient({
      hasCollection: vi.fn(async () => ({ status: OK, value: true })),
      describeCollection: vi.fn(async () => ({
        status: OK,
        schema: { fields: [{ name: "embedding", dim: "768" }] },
      })),
    });
    const store = await openMilvusVectors({ url: "milvus://milvus:19530", client });
    await expect(store.search(vec(1), 3)).rejects.toThrow(/has dim 768; SLO-Scout needs dim 384/);
    expect(fake.search).not.toHaveBeenCalled();
  });

  it("retries collection setup after a failure instead of caching it", async () => {
    let calls = 0;
    const { fake, client } = fakeClient({
      hasCollection: vi.fn(async () => {
        calls++;
        if (calls === 1) throw new Error("connect ECONNREFUSED");
        return { status: OK, value: false };
      }),
    });
    const store = await openMilvusVectors({ url: "milvus://milvus:19530", client });
    await expect(store.upsert([item(1)])).rejects.toThrow("ECONNREFUSED");
    await store.upsert([item(1)]);
    expect(fake.insert).toHaveBeenCalledTimes(1);
  });

  it("validates vectors before sending anything", async () => {
    const { fake, client } = fakeClient();
    const store = await openMilvusVectors({ url: "milvus://milvus:19530", client });
    await expect(store.upsert([{ ...item(1), vector: [1, 2] }])).rejects.toThrow(/has 2 dimensions/);
    await expect(store.search([0, 0], 1)).rejects.toThrow(/query vector has 2 dimensions/);
    expect(fake.hasCollection).not.toHaveBeenCalled();
  });

  it("reports health and closes the connection", async () => {
    const { fake, client } = fakeClient({
      checkHealth: vi.fn(async () => ({ isHealthy: false, reasons: ["querynode down"] })),
    });
    const store = await openMilvusVectors({ url: "milvus://milvus:19530", client });
    await expect(store.ping()).rejects.toThrow(/unhealthy.*querynode down/);
    await store.close();
    expect(fake.closeConnection).toHaveBeenCalled();
  });
});

describe("Milvus URLs and filters", () => {
  it("parses address, collection and credentials", () => {
    expect(parseMilvusUrl("milvus://localhost:19530")).toEqual({
      address: "localhost:19530",
      collection: DEFAULT_COLLECTION,
    });
    expect(parseMilvusUrl("milvus://u:p%40ss@db.internal/my_coll")).toEqual({
      address: "db.internal:19530",
      collection: "my_coll",
      username: "u",
      password: "p@ss",
    });
    expect(() => parseMilvusUrl("milvus://h:1/bad-name")).toThrow(/collection name/);
    expect(() => parseMilvusUrl("http://h:1")).toThrow(/milvus:\/\/host:19530/);
  });

  it("builds no expression for no filter", () => {
    expect(filterExpression(undefined)).toBe("");
    expect(filterExpression({ until: 5.5 })).toBe("window_start < 6");
  });
});

// Live tests against the Milvus that scripts/services.sh starts (MILVUS_ADDRESS names another one): they
// skip with the reason locally when it does not answer, and fail in CI. Each run uses its own collection.
const address = process.env.MILVUS_ADDRESS || "127.0.0.1:19530";
describe("Milvus live", () => {
  const collection = `slo_scout_test_${Date.now().toString(36)}_${process.pid}`;
  let store: VectorStore;
  let admin: MilvusClient;
  let up = false;
  // A Milvus 2.3 "Session" read does not wait for a write the SDK made (the SDK sends no session
  // timestamp), so a read after a write polls until the write is visible.
  const eventually = { timeout: 10_000, interval: 200 };

  beforeAll(async () => {
    store = await openMilvusVectors({ url: `milvus://${address}/${collection}` });
    up = await requireService(`milvus at ${address}`, () => store.ping());
    admin = new MilvusClient({ address, logLevel: "warn" });
  }, 60_000);
  afterAll(async () => {
    if (up) await admin.dropCollection({ collection_name: collection });
    await admin?.closeConnection();
    await store?.close();
  });

  it("creates the collection with a 384-dimension embedding and an HNSW/COSINE index", async (ctx) => {
    if (!up) ctx.skip();
    const desc = await admin.describeCollection({ collection_name: collection });
    const embedding = desc.schema.fields.find((f) => f.name === "embedding");
    expect(Number(embedding?.dim ?? embedding?.type_params?.find((p) => p.key === "dim")?.value)).toBe(384);
    const index = await admin.describeIndex({ collection_name: collection, field_name: "embedding" });
    const params = Object.fromEntries(index.index_descriptions[0]!.params.map((p) => [p.key, p.value]));
    expect(params).toMatchObject({ index_type: "HNSW", metric_type: "COSINE" });
  });

  it("upserts, searches with a filter, gets by id and deletes", async (ctx) => {
    if (!up) ctx.skip();
    const items = [1, 2, 3, 4].map((n) => ({
      ...item(n),
      metadata: { ...item(n).metadata, service: n % 2 ? "a" : "b" },
    }));
    await store.upsert(items);
    await vi.waitFor(async () => {
      const [hit] = await store.search(items[2]!.vector, 1, { service: "a" });
      expect(hit?.id).toBe(items[2]!.id);
      expect(hit?.score).toBeCloseTo(1, 3);
    }, eventually);
    const other = await store.search(items[2]!.vector, 4, { service: "b" });
    expect(other.map((h) => h.metadata.service)).toEqual(["b", "b"]);
    const got = await store.get(items[1]!.id);
    expect(got?.metadata).toEqual(items[1]!.metadata);
    expect(got?.vector[0]).toBeCloseTo(items[1]!.vector[0]!, 5);

    // Upserting an id again replaces it rather than adding a second row.
    await store.upsert([{ ...items[0]!, metadata: { ...items[0]!.metadata, template: "replaced <*>" } }]);
    await vi.waitFor(async () => {
      expect((await store.get(items[0]!.id))?.metadata.template).toBe("replaced <*>");
    }, eventually);

    await store.delete([items[1]!.id, items[3]!.id, "absent:0"]);
    await vi.waitFor(async () => {
      expect(await store.get(items[1]!.id)).toBeUndefined();
      const left = await store.search(items[2]!.vector, 4);
      expect(left.map((h) => h.id).sort()).toEqual([items[0]!.id, items[2]!.id].sort());
    }, eventually);
  });
});
