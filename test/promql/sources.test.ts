import { describe, expect, it } from "vitest";
import type { LabelMatcher } from "../../src/promql/ast.js";
import { CachingSource, MemorySource, queryRange } from "../../src/promql/index.js";

describe("MemorySource", () => {
  it("sorts, merges and replaces samples, and selects an inclusive time range by matchers", async () => {
    const src = new MemorySource();
    src.add({ __name__: "x", a: "1" }, [30, 10, 20], [3, 1, 2]);
    src.add({ __name__: "x", a: "1" }, [20, 40], [22, 4]);
    src.add({ __name__: "x", a: "2" }, [10], [9]);
    const [s] = await src.select("x", [{ name: "a", op: "=", value: "1" }], 20, 40);
    expect(Array.from(s!.timestamps)).toEqual([20, 30, 40]);
    expect(Array.from(s!.values)).toEqual([22, 3, 4]);
    expect(await src.select("x", [], 41, 50)).toEqual([]);
    expect(await src.select("y", [], 0, 50)).toEqual([]);
    expect(() => src.add({ a: "1" }, [1], [1])).toThrow(/__name__/);
  });

  it("stores a rule's output with a staleness marker where a series disappears", async () => {
    const src = new MemorySource();
    src.addResult({
      timestamps: [0, 60_000, 120_000, 180_000],
      series: [
        {
          labels: { __name__: "r" },
          values: Float64Array.from([1, 2, 0, 0]),
          present: Uint8Array.from([1, 1, 0, 0]),
        },
      ],
    });
    const [s] = await src.select("r", [], 0, 1e9);
    expect(Array.from(s!.timestamps)).toEqual([0, 60_000, 120_000]);
    expect(Array.from(s!.stale!)).toEqual([0, 0, 1]);
    // Without the marker the 5-minute lookback would still see 2 at 150 s.
    const r = await queryRange(src, "r", 60_000, 180_000, 30_000);
    expect(Array.from(r.series[0]!.present)).toEqual([1, 1, 0, 0, 0]);
    // Range functions skip the marker rather than summing its NaN.
    const sum = await queryRange(src, "sum_over_time(r[5m])", 180_000, 180_000, 1);
    expect(sum.series[0]!.values[0]).toBe(3);
  });
});

describe("CachingSource", () => {
  it("fetches only the part of a wider range it has not read yet, and answers like its base", async () => {
    const base = new MemorySource();
    base.add({ __name__: "x", a: "1" }, [10, 60, 120, 180, 240, 300], [1, 2, 3, 4, 5, 6]);
    base.add({ __name__: "x", a: "2" }, [50, 250], [7, 8], [0, 1]);
    const calls: [number, number][] = [];
    const counting = {
      select: (name: string, m: LabelMatcher[], s: number, e: number) => {
        calls.push([s, e]);
        return base.select(name, m, s, e);
      },
    };
    const cached = new CachingSource(counting);
    for (const [s, e] of [
      [100, 200],
      [50, 200],
      [50, 300],
      [60, 250],
    ] as const) {
      const got = await cached.select("x", [], s, e);
      const want = await base.select("x", [], s, e);
      const plain = (rs: typeof got) =>
        rs
          .map((r) => [
            r.labels.a,
            Array.from(r.timestamps),
            Array.from(r.values),
            Array.from(r.stale ?? r.timestamps, (_x, i) => r.stale?.[i] ?? 0),
          ])
          .sort();
      expect(plain(got)).toEqual(plain(want));
    }
    expect(calls).toEqual([
      [100, 200],
      [50, 99],
      [201, 300],
    ]);
  });
});
