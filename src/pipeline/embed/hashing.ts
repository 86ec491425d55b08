import type { Embedder } from "../../store/ports.js";

/**
 * Feature-hashing embedder: words and word pairs hashed into a fixed number of signed buckets, log-scaled
 * and L2-normalised. Deterministic and free of model weights, so the embedded default works offline; two
 * templates that share words land close under cosine similarity.
 */
export class HashingEmbedder implements Embedder {
  constructor(readonly dimensions = 384) {}

  async embed(texts: string[]): Promise<number[][]> {
    return texts.map((t) => this.embedOne(t));
  }

  embedOne(text: string): number[] {
    const v = new Float64Array(this.dimensions);
    const words = text
      .toLowerCase()
      .replace(/<[a-z*]+>/g, " ")
      .split(/[^a-z0-9]+/)
      .filter((w) => w.length > 1 && !/^\d+$/.test(w));
    const add = (feature: string, weight: number) => {
      const h = fnv1a(feature);
      v[h % this.dimensions]! += (h & 0x80000000 ? -1 : 1) * weight;
    };
    for (let i = 0; i < words.length; i++) {
      add(words[i]!, 1);
      if (i > 0) add(`${words[i - 1]} ${words[i]}`, 0.5);
    }
    let norm = 0;
    for (let i = 0; i < v.length; i++) {
      const x = v[i]!;
      v[i] = Math.sign(x) * Math.log1p(Math.abs(x));
      norm += v[i]! * v[i]!;
    }
    norm = Math.sqrt(norm);
    return Array.from(v, (x) => (norm === 0 ? 0 : x / norm));
  }
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}
