import { SeededRandom } from "../core/random.js";

/**
 * Uniform reservoir sampling (Vitter's Algorithm R): keeps at most `capacity` items of a stream, each
 * item seen so far equally likely to be kept. The random source is a seeded PRNG whose state is part
 * of the reservoir's JSON, so tests are deterministic and a restored reservoir continues identically.
 */

export { SeededRandom };

export const DEFAULT_SAMPLES_PER_FINGERPRINT = 10;

/**
 * One step of Algorithm R on a plain array: `seen` counts the items offered so far INCLUDING this one.
 * Aggregates that keep their samples inside a larger state (capsules, example traces) use this directly.
 */
export function offerInto<T>(
  items: T[],
  seen: number,
  item: T,
  capacity: number,
  random: () => number,
): boolean {
  if (items.length < capacity) {
    items.push(item);
    return true;
  }
  const j = Math.floor(random() * seen);
  if (j < capacity) {
    items[j] = item;
    return true;
  }
  return false;
}

export interface ReservoirState<T> {
  capacity: number;
  seen: number;
  items: T[];
  rng: number;
}

export class Reservoir<T> {
  private items_: T[] = [];
  private seen_ = 0;
  private readonly rng: SeededRandom;

  constructor(
    readonly capacity = DEFAULT_SAMPLES_PER_FINGERPRINT,
    seed: number = (Math.random() * 2 ** 32) >>> 0,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new Error(`reservoir capacity must be a positive integer (got ${capacity})`);
    this.rng = new SeededRandom(seed);
  }

  /** Offers one item; returns true when it was kept. */
  offer(item: T): boolean {
    this.seen_++;
    return offerInto(this.items_, this.seen_, item, this.capacity, () => this.rng.next());
  }

  /** How many items were offered. */
  get seen(): number {
    return this.seen_;
  }

  get items(): readonly T[] {
    return this.items_;
  }

  toJSON(): ReservoirState<T> {
    return { capacity: this.capacity, seen: this.seen_, items: [...this.items_], rng: this.rng.state };
  }

  static fromJSON<T>(state: ReservoirState<T>): Reservoir<T> {
    const r = new Reservoir<T>(state.capacity, 0);
    r.items_ = [...state.items].slice(0, state.capacity);
    r.seen_ = state.seen;
    r.rng.state = state.rng >>> 0;
    return r;
  }
}

/**
 * One reservoir per key (fingerprint) — the samples of one window. Each key's reservoir gets its own
 * seed derived from the base seed and the key, so its samples do not depend on how keys interleave.
 */
export class KeyedReservoirs<T> {
  private readonly byKey = new Map<string, Reservoir<T>>();

  constructor(
    readonly capacity = DEFAULT_SAMPLES_PER_FINGERPRINT,
    readonly seed = 0x5eed,
  ) {}

  offer(key: string, item: T): boolean {
    let r = this.byKey.get(key);
    if (!r) {
      r = new Reservoir<T>(this.capacity, seedFor(this.seed, key));
      this.byKey.set(key, r);
    }
    return r.offer(item);
  }

  get(key: string): Reservoir<T> | undefined {
    return this.byKey.get(key);
  }

  keys(): IterableIterator<string> {
    return this.byKey.keys();
  }

  toJSON(): { capacity: number; seed: number; reservoirs: Record<string, ReservoirState<T>> } {
    const reservoirs: Record<string, ReservoirState<T>> = {};
    for (const [k, r] of this.byKey) reservoirs[k] = r.toJSON();
    return { capacity: this.capacity, seed: this.seed, reservoirs };
  }

  static fromJSON<T>(state: ReturnType<KeyedReservoirs<T>["toJSON"]>): KeyedReservoirs<T> {
    const k = new KeyedReservoirs<T>(state.capacity, state.seed);
    for (const [key, r] of Object.entries(state.reservoirs)) k.byKey.set(key, Reservoir.fromJSON(r));
    return k;
  }
}

/** FNV-1a of the key mixed with the seed. */
export function seedFor(seed: number, key: string): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
