import { describe, expect, it } from "vitest";
import { KeyedReservoirs, Reservoir, SeededRandom } from "../../src/pipeline/reservoir.js";

describe("Reservoir (Algorithm R)", () => {
  it("keeps at most its capacity and the first items until full", () => {
    const r = new Reservoir<number>(10, 1);
    for (let i = 0; i < 5; i++) r.offer(i);
    expect(r.items).toEqual([0, 1, 2, 3, 4]);
    for (let i = 5; i < 1000; i++) r.offer(i);
    expect(r.items).toHaveLength(10);
    expect(r.seen).toBe(1000);
    expect(new Set(r.items).size).toBe(10);
  });

  it("is deterministic under a seed and differs across seeds", () => {
    const run = (seed: number) => {
      const r = new Reservoir<number>(10, seed);
      for (let i = 0; i < 500; i++) r.offer(i);
      return [...r.items];
    };
    expect(run(7)).toEqual(run(7));
    expect(run(7)).not.toEqual(run(8));
  });

  it("samples uniformly: each of 100 items is kept about 10% of the time", () => {
    const kept = new Array<number>(100).fill(0);
    const runs = 4000;
    for (let s = 0; s < runs; s++) {
      const r = new Reservoir<number>(10, s * 2654435761);
      for (let i = 0; i < 100; i++) r.offer(i);
      for (const x of r.items) kept[x]!++;
    }
    // expected 400 per item; binomial sd ≈ 19, allow ±5 sd
    for (const k of kept) expect(Math.abs(k - 400)).toBeLessThan(95);
    // the early items are not favoured over the late ones
    const firstHalf = kept.slice(0, 50).reduce((a, b) => a + b, 0);
    expect(Math.abs(firstHalf - runs * 5)).toBeLessThan(runs * 0.15);
  });

  it("continues identically after toJSON/fromJSON", () => {
    const a = new Reservoir<string>(10, 99);
    const b = new Reservoir<string>(10, 99);
    for (let i = 0; i < 300; i++) {
      a.offer(`x${i}`);
      b.offer(`x${i}`);
    }
    const restored = Reservoir.fromJSON<string>(JSON.parse(JSON.stringify(b.toJSON())));
    for (let i = 300; i < 900; i++) {
      a.offer(`x${i}`);
      restored.offer(`x${i}`);
    }
    expect(restored.items).toEqual(a.items);
    expect(restored.seen).toBe(900);
  });

  it("rejects a capacity that is not a positive integer", () => {
    expect(() => new Reservoir(0)).toThrow(/positive integer/);
    expect(() => new Reservoir(2.5)).toThrow(/positive integer/);
  });
});

describe("KeyedReservoirs", () => {
  it("keeps ≤10 per key, independent of how keys interleave", () => {
    const a = new KeyedReservoirs<number>(10, 5);
    const b = new KeyedReservoirs<number>(10, 5);
    for (let i = 0; i < 200; i++) a.offer("fp1", i);
    for (let i = 0; i < 200; i++) a.offer("fp2", i);
    for (let i = 0; i < 200; i++) {
      b.offer("fp2", i);
      b.offer("fp1", i);
    }
    expect(a.get("fp1")!.items).toEqual(b.get("fp1")!.items);
    expect(a.get("fp2")!.items).toEqual(b.get("fp2")!.items);
    expect(a.get("fp1")!.items).toHaveLength(10);
    expect(a.get("fp1")!.items).not.toEqual(a.get("fp2")!.items);
    const restored = KeyedReservoirs.fromJSON<number>(JSON.parse(JSON.stringify(a.toJSON())));
    expect([...restored.keys()].sort()).toEqual(["fp1", "fp2"]);
  });

  it("SeededRandom is uniform in [0, 1)", () => {
    const r = new SeededRandom(123);
    let sum = 0;
    for (let i = 0; i < 10000; i++) {
      const x = r.next();
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
      sum += x;
    }
    expect(Math.abs(sum / 10000 - 0.5)).toBeLessThan(0.02);
  });
});
