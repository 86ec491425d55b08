/**
 * mulberry32: a small, fast, seeded 32-bit PRNG, uniform in [0, 1). Everything that needs repeatable
 * randomness (reservoirs, synthetic data, fuzzing) draws from it, so a failure can be replayed by its seed.
 */
export class SeededRandom {
  constructor(public state: number) {
    this.state = state >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}

/** A seeded `() => number`, where a plain function is wanted instead of `Math.random`. */
export function seededRandom(seed: number): () => number {
  const r = new SeededRandom(seed);
  return () => r.next();
}
