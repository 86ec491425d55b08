import type { MilvusClient } from "@zilliz/milvus2-sdk-node";
import type { VectorFilter, VectorHit, VectorItem, VectorStore } from "../ports.js";
import { checkItems, checkVector, DIMENSIONS } from "./check.js";

/**
 * Capsule embeddings in Milvus: one collection (created when missing) with an HNSW index and the COSINE
 * metric, so scores mean the same as pgvector's. `service` is the partition key, so a search filtered to
 * one service touches that service's partitions only.
 */

/** The part of `MilvusClient` this adapter uses; tests hand in a fake with the same shape. */
export type MilvusApi = Pick<
  MilvusClient,
  | "hasCollection"
  | "describeCollection"
  | "createCollection"
  | "createIndex"
  | "loadCollectionSync"
  | "insert"
  | "search"
  | "get"
  | "delete"
  | "checkHealth"
  | "closeConnection"
>;

interface Status {
  error_code: string | number;
  /** Newer servers put the outcome here and may leave error_code at "Success" on failure. */
  code?: number;
  reason: string;
}

export interface MilvusOptions {
  /** `milvus://[user:password@]host:19530[/collection]`. */
  url: string;
  dimensions?: number;
  /** A ready client (tests); otherwise one is created from the URL. */
  client?: MilvusApi;
}

export const DEFAULT_COLLECTION = "slo_scout_capsules";
/** Milvus VarChar limits are bytes; longer templates are cut (the full one stays in the relational store). */
export const TEMPLATE_MAX_BYTES = 8192;
const OUTPUT_FIELDS = ["id", "service", "window_start", "fingerprint", "template", "embedding"];

export function parseMilvusUrl(url: string): {
  address: string;
  collection: string;
  username?: string;
  password?: string;
} {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`VECTOR_URL ${url} is not a URL (e.g. milvus://localhost:19530)`);
  }
  if (u.protocol !== "milvus:" || !u.hostname) {
    throw new Error(`VECTOR_URL ${url} must look like milvus://host:19530[/collection]`);
  }
  const collection = decodeURIComponent(u.pathname.replace(/^\/+|\/+$/g, "")) || DEFAULT_COLLECTION;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(collection)) {
    throw new Error(
      `Milvus collection name ${JSON.stringify(collection)} must be letters, digits and _ (e.g. slo_scout_capsules)`,
    );
  }
  return {
    address: `${u.hostname}:${u.port || "19530"}`,
    collection,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
  };
}

/** A Milvus boolean expression for the filter; strings are JSON-quoted, which Milvus parses alike. */
export function filterExpression(filter: VectorFilter | undefined): string {
  const parts: string[] = [];
  if (filter?.service !== undefined) parts.push(`service == ${JSON.stringify(filter.service)}`);
  if (filter?.since !== undefined) parts.push(`window_start >= ${Math.floor(filter.since)}`);
  if (filter?.until !== undefined) parts.push(`window_start < ${Math.ceil(filter.until)}`);
  return parts.join(" and ");
}

function truncateBytes(text: string, max: number): string {
  const bytes = Buffer.from(text, "utf8");
  if (bytes.length <= max) return text;
  return new TextDecoder().decode(bytes.subarray(0, max)).replace(/\uFFFD+$/, "");
}

function check(op: string, status: Status | undefined): void {
  if (status && ((status.error_code !== "Success" && status.error_code !== 0) || (status.code ?? 0) !== 0)) {
    throw new Error(`milvus: ${op} failed: ${status.reason || status.error_code}`);
  }
}

function toItem(r: Record<string, unknown>): VectorItem {
  return {
    id: String(r.id),
    vector: (r.embedding as number[] | undefined)?.map(Number) ?? [],
    metadata: {
      service: String(r.service),
      windowStart: Number(r.window_start),
      fingerprint: String(r.fingerprint),
      template: String(r.template),
    },
  };
}

async function createClient(url: string): Promise<MilvusApi> {
  const { address, username, password } = parseMilvusUrl(url);
  const { MilvusClient } = await import("@zilliz/milvus2-sdk-node");
  const client = new MilvusClient({
    address,
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    timeout: 10_000,
    // The SDK logs every request at debug level under NODE_ENV=test; our own logs say what matters.
    logLevel: "warn",
  });
  // The client connects as soon as it is built; a server that is down must surface on the next call (as
  // it does, since every call awaits this promise), not as an unhandled rejection that kills the process.
  (client as unknown as { connectPromise?: Promise<unknown> }).connectPromise?.catch(() => {});
  return client;
}

export async function openMilvusVectors(options: MilvusOptions): Promise<VectorStore> {
  const { collection } = parseMilvusUrl(options.url);
  const dimensions = options.dimensions ?? DIMENSIONS;
  let client = options.client ?? (await createClient(options.url));
  // A client whose first connection failed never retries it, so a fresh one is built for the next call.
  let stale = false;
  const name = { collection_name: collection };

  let ready: Promise<void> | undefined;
  const ensureCollection = () => {
    ready ??= (async () => {
      if (stale && !options.client) {
        const old = client;
        client = await createClient(options.url);
        stale = false;
        old.closeConnection().catch(() => {});
      }
      const has = await client.hasCollection(name);
      check("hasCollection", has.status);
      if (has.value) {
        const desc = await client.describeCollection(name);
        check("describeCollection", desc.status);
        const field = desc.schema.fields.find((f) => f.name === "embedding");
        const dim = Number(field?.dim ?? field?.type_params?.find((p) => p.key === "dim")?.value);
        if (dim !== dimensions) {
          throw new Error(
            `milvus: collection ${collection} has ${field ? `dim ${dim}` : "no embedding field"}; SLO-Scout needs dim ${dimensions} (name another collection in VECTOR_URL)`,
          );
        }
      } else {
        check(
          "createCollection",
          await client.createCollection({
            ...name,
            description: "SLO-Scout capsule embeddings",
            consistency_level: "Session",
            fields: [
              { name: "id", data_type: "VarChar", is_primary_key: true, autoID: false, max_length: 128 },
              { name: "service", data_type: "VarChar", max_length: 256, is_partition_key: true },
              { name: "window_start", data_type: "Int64" },
              { name: "fingerprint", data_type: "VarChar", max_length: 64 },
              { name: "template", data_type: "VarChar", max_length: TEMPLATE_MAX_BYTES },
              { name: "embedding", data_type: "FloatVector", dim: dimensions },
            ],
          }),
        );
        check(
          "createIndex",
          await client.createIndex({
            ...name,
            field_name: "embedding",
            index_name: "embedding_hnsw",
            index_type: "HNSW",
            metric_type: "COSINE",
            params: { M: 16, efConstruction: 200 },
          }),
        );
      }
      check("loadCollection", await client.loadCollectionSync(name));
    })().catch((err) => {
      // Let the next call try again (Milvus may have been starting up).
      ready = undefined;
      stale = true;
      throw err;
    });
    return ready;
  };

  return {
    async upsert(items) {
      if (items.length === 0) return;
      checkItems(items, dimensions);
      await ensureCollection();
      const rows = [...new Map(items.map((it) => [it.id, it])).values()].map((it) => ({
        id: it.id,
        service: it.metadata.service,
        window_start: it.metadata.windowStart,
        fingerprint: it.metadata.fingerprint,
        template: truncateBytes(it.metadata.template, TEMPLATE_MAX_BYTES),
        embedding: it.vector,
      }));
      // A delete and an insert rather than Milvus' upsert (which is the same two steps inside): before
      // 2.3.10 an upsert hashed the wrong field for the partition key, so the row landed in a partition
      // that a search filtered by service never reads (milvus-io/milvus#30607, the server on PyPI is 2.3.5).
      check("delete", (await client.delete({ ...name, ids: rows.map((r) => r.id) })).status);
      check("insert", (await client.insert({ ...name, data: rows })).status);
    },

    async search(vector, k, filter) {
      checkVector(vector, dimensions, "the query vector");
      if (!Number.isInteger(k) || k <= 0) throw new Error(`k must be a positive whole number, got ${k}`);
      await ensureCollection();
      const expr = filterExpression(filter);
      const res = await client.search({
        ...name,
        anns_field: "embedding",
        data: vector,
        limit: k,
        metric_type: "COSINE",
        // ef is HNSW's candidate list; it must be at least k.
        params: { ef: Math.max(64, k) },
        output_fields: OUTPUT_FIELDS,
        ...(expr ? { filter: expr } : {}),
      });
      check("search", res.status);
      return res.results.map((r): VectorHit => ({ ...toItem(r), score: Number(r.score) }));
    },

    async get(id) {
      await ensureCollection();
      const res = await client.get({ ...name, ids: [id], output_fields: OUTPUT_FIELDS });
      check("get", res.status);
      return res.data[0] && toItem(res.data[0]);
    },

    async delete(ids) {
      if (ids.length === 0) return;
      await ensureCollection();
      const res = await client.delete({ ...name, ids: [...new Set(ids)] });
      check("delete", res.status);
    },

    async ping() {
      // Every failure names the backend and its address: /health shows this message as the reason.
      try {
        await ensureCollection();
        const health = await client.checkHealth();
        if (!health.isHealthy) throw new Error(`unhealthy (${JSON.stringify(health.reasons)})`);
      } catch (err) {
        throw new Error(`milvus at ${parseMilvusUrl(options.url).address}: ${(err as Error).message}`);
      }
    },

    async close() {
      await client.closeConnection();
    },
  };
}
