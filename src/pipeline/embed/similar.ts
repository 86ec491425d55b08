import type { Capsule } from "../../core/capsule.js";
import type { Embedder, Sql, VectorFilter, VectorStore } from "../../store/ports.js";
import { getCapsule, parseCapsuleId } from "../../store/repos/capsules.js";
import type { Redactor } from "../redact.js";

export interface SimilarCapsule {
  capsule: Capsule;
  /** Cosine similarity, higher is closer. */
  score: number;
}

export interface SimilarityDeps {
  sql: Sql;
  vectors: VectorStore;
  embedder: Embedder;
  redact: Redactor;
}

/**
 * The k capsules nearest to a text or to a stored capsule, for analysis evidence and the LLM context.
 * Free text is redacted before it is embedded, since it may come from a user or a log line.
 */
export async function findSimilarCapsules(
  deps: SimilarityDeps,
  query: string | { capsuleId: string },
  k: number,
  filter?: VectorFilter,
): Promise<SimilarCapsule[]> {
  let vector: number[];
  let exclude: string | undefined;
  if (typeof query === "string") {
    const [v] = await deps.embedder.embed([deps.redact(query)]);
    vector = v!;
  } else {
    if (!parseCapsuleId(query.capsuleId)) throw new Error(`not a capsule id: ${query.capsuleId}`);
    const item = await deps.vectors.get(query.capsuleId);
    if (!item) throw new Error(`capsule ${query.capsuleId} has no embedding yet`);
    vector = item.vector;
    exclude = query.capsuleId;
  }
  const hits = await deps.vectors.search(vector, exclude ? k + 1 : k, filter);
  const out: SimilarCapsule[] = [];
  for (const hit of hits) {
    if (hit.id === exclude) continue;
    const capsule = await getCapsule(deps.sql, hit.id);
    if (capsule) out.push({ capsule, score: hit.score });
    if (out.length === k) break;
  }
  return out;
}
