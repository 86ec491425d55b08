import type { VectorItem } from "../ports.js";

/** The dimension of capsule embeddings everywhere (the migration's vector(384), Milvus' dim). */
export const DIMENSIONS = 384;

/** Throws a clear error for a vector the stores cannot index: wrong length, non-finite or all zeros. */
export function checkVector(vector: number[], dimensions: number, what: string): void {
  if (!Array.isArray(vector) || vector.length !== dimensions) {
    throw new Error(
      `${what} has ${Array.isArray(vector) ? vector.length : "no"} dimensions; the vector store expects ${dimensions}`,
    );
  }
  let norm = 0;
  for (const x of vector) {
    if (!Number.isFinite(x)) throw new Error(`${what} contains a non-finite value`);
    norm += x * x;
  }
  // Cosine similarity is undefined for a zero vector; storing one would poison every ranking it joins.
  if (norm === 0) throw new Error(`${what} is all zeros; cosine similarity is undefined for it`);
}

export function checkItems(items: VectorItem[], dimensions: number): void {
  for (const it of items) {
    if (!it.id) throw new Error("a vector item needs an id");
    checkVector(it.vector, dimensions, `vector ${it.id}`);
  }
}
