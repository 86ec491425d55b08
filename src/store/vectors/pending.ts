import { gauge } from "../../observability/metrics.js";
import type { Sql, VectorItem, VectorStore } from "../ports.js";
import { checkItems, DIMENSIONS } from "./check.js";

/**
 * An external vector store (Milvus) in front of a durable queue in the relational store. The pipeline
 * writes embeddings after the window transaction; when the vector store refuses them, the capsules are
 * already stored and only their vectors are missing. Rather than fail the batch (which would lose the
 * vectors: the redelivered batch is skipped as already applied) they go to `pending_vectors`, and a
 * retry loop upserts them once the store answers.
 *
 * While rows are pending, new vectors join the queue instead of trying the store first, so a store that
 * is down costs each batch one INSERT rather than a connection timeout, and a vector queued earlier can
 * never overwrite a newer one sent directly. Only when enqueueing fails too (the database is down as
 * well) does `upsert` throw.
 */

export interface PendingVectorStore extends VectorStore {
  /**
   * Sends queued vectors to the store, oldest first, until the queue is empty or the store refuses (the
   * refused rows record the attempt and the error). Returns how many are still pending.
   */
  retryPending(): Promise<number>;
}

export interface PendingOptions {
  dimensions?: number;
  /** How often the retry loop runs; 0 starts no loop (the caller calls `retryPending`). */
  retryMs?: number;
  /** Rows sent to the store per request. */
  batch?: number;
  now?: () => number;
}

interface Row {
  id: string;
  service: string;
  window_start: string | number;
  fingerprint: string;
  template: string;
  embedding: number[];
  queued_at: string | number;
}

const pendingGauge = gauge(
  "slo_scout_vectors_pending",
  "Capsule embeddings waiting in pending_vectors for the vector store to take them",
);

const firstLine = (err: unknown) => ((err as Error)?.message ?? String(err)).split("\n")[0]!.slice(0, 500);

export function withPendingVectors(
  sql: Sql,
  store: VectorStore,
  options: PendingOptions = {},
): PendingVectorStore {
  const dimensions = options.dimensions ?? DIMENSIONS;
  const now = options.now ?? Date.now;
  const batch = options.batch ?? 200;
  // Set by a refused upsert, cleared when a retry pass empties the queue. It starts set because rows a
  // previous process queued may be waiting; the first pass (at once when there is a loop) clears it.
  let queueing = true;

  async function enqueue(items: VectorItem[], reason: string) {
    const rows = [...new Map(items.map((it) => [it.id, it])).values()].map((it) => ({
      id: it.id,
      service: it.metadata.service,
      window_start: it.metadata.windowStart,
      fingerprint: it.metadata.fingerprint,
      template: it.metadata.template,
      embedding: it.vector,
    }));
    await sql.query(
      `INSERT INTO pending_vectors (id, service, window_start, fingerprint, template, embedding, queued_at, last_error)
       SELECT id, service, window_start, fingerprint, template,
              ARRAY(SELECT jsonb_array_elements_text(embedding)::real), $2, $3
         FROM jsonb_to_recordset($1::jsonb)
           AS r(id text, service text, window_start bigint, fingerprint text, template text, embedding jsonb)
       ON CONFLICT (id) DO UPDATE SET service = EXCLUDED.service, window_start = EXCLUDED.window_start,
         fingerprint = EXCLUDED.fingerprint, template = EXCLUDED.template, embedding = EXCLUDED.embedding,
         queued_at = EXCLUDED.queued_at, last_error = EXCLUDED.last_error`,
      [JSON.stringify(rows), now(), reason],
    );
  }

  async function retryPending(): Promise<number> {
    for (;;) {
      const { rows } = await sql.query<Row>(
        `SELECT id, service, window_start, fingerprint, template, embedding, queued_at
           FROM pending_vectors ORDER BY queued_at, id LIMIT $1`,
        [batch],
      );
      if (rows.length === 0) break;
      const ids = rows.map((r) => r.id);
      const stamps = rows.map((r) => Number(r.queued_at));
      try {
        await store.upsert(
          rows.map((r) => ({
            id: r.id,
            vector: r.embedding.map(Number),
            metadata: {
              service: r.service,
              windowStart: Number(r.window_start),
              fingerprint: r.fingerprint,
              template: r.template,
            },
          })),
        );
      } catch (err) {
        queueing = true;
        await sql.query(
          `UPDATE pending_vectors SET attempts = attempts + 1, last_error = $2 WHERE id = ANY($1::text[])`,
          [ids, firstLine(err)],
        );
        break;
      }
      await sql.query(
        `DELETE FROM pending_vectors p USING unnest($1::text[], $2::bigint[]) AS sent(id, queued_at)
          WHERE p.id = sent.id AND p.queued_at = sent.queued_at`,
        [ids, stamps],
      );
    }
    const { rows } = await sql.query<{ n: string | number }>("SELECT count(*) AS n FROM pending_vectors");
    const left = Number(rows[0]?.n ?? 0);
    pendingGauge.set(left);
    if (left === 0) queueing = false;
    return left;
  }

  let running: Promise<unknown> | undefined;
  // One pass at a time; a failed pass (the database is down) is tried again on the next tick.
  const pass = () => {
    running ??= retryPending()
      .catch(() => {})
      .finally(() => {
        running = undefined;
      });
  };
  const retryMs = options.retryMs ?? 10_000;
  const timer = retryMs > 0 ? setInterval(pass, retryMs) : undefined;
  timer?.unref();
  if (timer) pass();

  return {
    retryPending,

    async upsert(items) {
      if (items.length === 0) return;
      // Invalid vectors are the caller's bug, not an outage: they must not wait in the queue forever.
      checkItems(items, dimensions);
      let reason = "waiting behind pending vectors";
      if (!queueing) {
        try {
          await store.upsert(items);
          return;
        } catch (err) {
          queueing = true;
          reason = firstLine(err);
        }
      }
      await enqueue(items, reason).catch((dbErr: Error) => {
        throw new Error(`${items.length} vectors could not be queued (${reason}): ${dbErr.message}`);
      });
    },

    search: (vector, k, filter) => store.search(vector, k, filter),
    get: (id) => store.get(id),

    async delete(ids) {
      if (ids.length === 0) return;
      // A queued vector must not bring a deleted capsule back on the next retry.
      await sql.query("DELETE FROM pending_vectors WHERE id = ANY($1::text[])", [ids]);
      await store.delete(ids);
    },

    ping: () => store.ping(),

    async close() {
      if (timer) clearInterval(timer);
      await running;
      await store.close();
    },
  };
}
