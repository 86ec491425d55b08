import { storeFeatures } from "../migrate.js";
import type { Sql, VectorFilter, VectorHit, VectorItem, VectorStore } from "../ports.js";
import { checkItems, checkVector, DIMENSIONS } from "./check.js";

/**
 * Capsule embeddings in the relational store's `capsule_vectors` table. With pgvector (always on PGlite,
 * on Postgres where the server has the extension) search uses the HNSW cosine index through `<=>`. On a
 * Postgres without pgvector the column is real[] and search is an exact cosine scan: correct, slower at
 * scale, and reported through `mode` so the operator can install pgvector or use Milvus.
 */

export interface PgVectorStore extends VectorStore {
  readonly mode: "hnsw" | "exact";
}

interface Row {
  id: string;
  service: string;
  window_start: number;
  fingerprint: string;
  template: string;
  embedding: string | number[];
  score?: number;
}

const parseVector = (v: string | number[]): number[] =>
  Array.isArray(v)
    ? v.map(Number)
    : v
        .replace(/^[[{]|[\]}]$/g, "")
        .split(",")
        .map(Number);

function toItem(r: Row): VectorItem {
  return {
    id: r.id,
    vector: parseVector(r.embedding),
    metadata: {
      service: r.service,
      windowStart: r.window_start,
      fingerprint: r.fingerprint,
      template: r.template,
    },
  };
}

function filterSql(filter: VectorFilter | undefined, params: unknown[]): string {
  const where: string[] = [];
  const bind = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  if (filter?.service !== undefined) where.push(`service = ${bind(filter.service)}`);
  if (filter?.since !== undefined) where.push(`window_start >= ${bind(Math.floor(filter.since))}`);
  if (filter?.until !== undefined) where.push(`window_start < ${bind(Math.ceil(filter.until))}`);
  return where.length ? `WHERE ${where.join(" AND ")}` : "";
}

export async function openPgVectors(sql: Sql, options: { dimensions?: number } = {}): Promise<PgVectorStore> {
  const dimensions = options.dimensions ?? DIMENSIONS;
  try {
    await sql.query("SELECT 1 FROM capsule_vectors LIMIT 0");
  } catch (err) {
    throw new Error(
      `vector store: table capsule_vectors is missing (run slo-scout migrate): ${(err as Error).message}`,
    );
  }
  const features = await storeFeatures(sql);
  const mode = features.vectors === "pgvector" ? "hnsw" : "exact";
  // pgvector >= 0.8 can keep scanning the HNSW graph until k rows pass the filter; older versions may
  // return fewer than k when a filter is selective.
  let iterative = false;
  if (mode === "hnsw") {
    const { rows } = await sql.query<{ v: string }>(
      "SELECT extversion AS v FROM pg_extension WHERE extname = 'vector'",
    );
    const [major = 0, minor = 0] = (rows[0]?.v ?? "0").split(".").map(Number);
    iterative = major > 0 || minor >= 8;
  }
  const literal = (v: number[]) => (mode === "hnsw" ? `[${v.join(",")}]` : `{${v.join(",")}}`);
  const cast = mode === "hnsw" ? `vector(${dimensions})` : "real[]";

  return {
    mode,
    async upsert(items) {
      if (items.length === 0) return;
      checkItems(items, dimensions);
      const byId = new Map(items.map((it) => [it.id, it]));
      const rows = [...byId.values()].map((it) => ({
        id: it.id,
        service: it.metadata.service,
        window_start: it.metadata.windowStart,
        fingerprint: it.metadata.fingerprint,
        template: it.metadata.template,
        embedding: literal(it.vector),
      }));
      await sql.query(
        `INSERT INTO capsule_vectors (id, service, window_start, fingerprint, template, embedding)
         SELECT id, service, window_start, fingerprint, template, embedding::${cast}
           FROM jsonb_to_recordset($1::jsonb)
             AS r(id text, service text, window_start bigint, fingerprint text, template text, embedding text)
         ON CONFLICT (id) DO UPDATE SET service = EXCLUDED.service, window_start = EXCLUDED.window_start,
           fingerprint = EXCLUDED.fingerprint, template = EXCLUDED.template, embedding = EXCLUDED.embedding`,
        [JSON.stringify(rows)],
      );
    },

    async search(vector, k, filter) {
      checkVector(vector, dimensions, "the query vector");
      if (!Number.isInteger(k) || k <= 0) throw new Error(`k must be a positive whole number, got ${k}`);
      const params: unknown[] = [literal(vector)];
      const where = filterSql(filter, params);
      params.push(k);
      const limit = `$${params.length}`;
      const cols = "id, service, window_start, fingerprint, template, embedding::text AS embedding";
      if (mode === "hnsw") {
        return sql.transaction(async (tx) => {
          // ef_search bounds how many candidates HNSW keeps; it must be at least k to return k rows.
          await tx.query(`SELECT set_config('hnsw.ef_search', $1, true)`, [
            String(Math.min(1000, Math.max(40, k))),
          ]);
          if (iterative) await tx.query("SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true)");
          const { rows } = await tx.query<Row>(
            `SELECT * FROM (
               SELECT ${cols}, 1 - (embedding <=> $1::${cast}) AS score FROM capsule_vectors ${where}
                ORDER BY embedding <=> $1::${cast} LIMIT ${limit}
             ) hits ORDER BY score DESC, id`,
            params,
          );
          return rows.map((r): VectorHit => ({ ...toItem(r), score: Number(r.score) }));
        });
      }
      const { rows } = await sql.query<Row>(
        `SELECT * FROM (
           SELECT ${cols},
                  (SELECT sum(a::float8 * b) / nullif(sqrt(sum(a::float8 * a)) * sqrt(sum(b::float8 * b)), 0)
                     FROM unnest(embedding, $1::real[]) AS t(a, b)) AS score
             FROM capsule_vectors ${where}
         ) scored ORDER BY score DESC NULLS LAST, id LIMIT ${limit}`,
        params,
      );
      return rows.map((r): VectorHit => ({ ...toItem(r), score: Number(r.score) }));
    },

    async get(id) {
      const { rows } = await sql.query<Row>(
        "SELECT id, service, window_start, fingerprint, template, embedding::text AS embedding FROM capsule_vectors WHERE id = $1",
        [id],
      );
      return rows[0] && toItem(rows[0]);
    },

    async delete(ids) {
      if (ids.length === 0) return;
      await sql.query("DELETE FROM capsule_vectors WHERE id = ANY($1::text[])", [ids]);
    },

    async ping() {
      await sql.query("SELECT 1 FROM capsule_vectors LIMIT 0");
    },

    /** The SQL connection belongs to the caller, who closes it. */
    async close() {},
  };
}
