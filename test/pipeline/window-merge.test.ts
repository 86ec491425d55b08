import { describe, expect, it } from "vitest";
import { SeededRandom } from "../../src/core/random.js";
import { emptyHistogram, observe } from "../../src/pipeline/histogram.js";
import { mergeCapsule, mergeRoute, mergeSamples } from "../../src/pipeline/window-merge.js";

describe("window merge", () => {
  it("samples both streams in proportion to their length", () => {
    const rng = new SeededRandom(7);
    const a = Array.from({ length: 10 }, (_, i) => `a${i}`);
    const b = Array.from({ length: 10 }, (_, i) => `b${i}`);
    let fromA = 0;
    for (let i = 0; i < 2000; i++) {
      const out = mergeSamples(a, 900, b, 100, 10, () => rng.next());
      expect(new Set(out).size).toBe(10);
      fromA += out.filter((x) => x.startsWith("a")).length;
    }
    expect(fromA / 20_000).toBeGreaterThan(0.85);
    expect(fromA / 20_000).toBeLessThan(0.95);
    expect(mergeSamples(["x"], 1, ["y"], 1, 10, Math.random).sort()).toEqual(["x", "y"]);
  });

  it("adds a capsule's counts, severities and seen-range to the stored one", () => {
    const base = {
      service: "s",
      fingerprint: "f",
      template: "t <*>",
      windowStart: 0,
      severityCounts: { trace: 0, debug: 0, info: 2, warn: 0, error: 1, fatal: 0 },
    };
    const stored = { ...base, count: 3, firstSeen: 10, lastSeen: 50, samples: ["t 1", "t 2", "t 3"] };
    const added = {
      ...base,
      count: 2,
      severityCounts: { ...base.severityCounts, info: 0, error: 2 },
      firstSeen: 5,
      lastSeen: 20,
      samples: ["t 4", "t 5"],
    };
    expect(mergeCapsule(stored, added, Math.random)).toMatchObject({
      count: 5,
      severityCounts: { info: 2, error: 3 },
      firstSeen: 5,
      lastSeen: 50,
    });
    expect(mergeCapsule(stored, added, Math.random).samples).toHaveLength(5);
  });

  it("adds route requests and latency histograms", () => {
    const route = (requests: number, ms: number) => {
      const latency = emptyHistogram();
      for (let i = 0; i < requests; i++) observe(latency, ms);
      return {
        journeyKey: "gw GET /",
        service: "gw",
        operation: "GET /",
        windowStart: 0,
        requests,
        errors: 1,
        clientErrors: 0,
        fromBrowser: 0,
        latency,
      };
    };
    const merged = mergeRoute(route(3, 20), route(2, 600));
    expect(merged).toMatchObject({ requests: 5, errors: 2 });
    expect(merged.latency.counts.reduce((a, b) => a + b, 0)).toBe(5);
    expect(merged.latency.sumMs).toBe(3 * 20 + 2 * 600);
  });
});
