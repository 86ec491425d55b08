import { describe, expect, it } from "vitest";
import { assessConfidence, topBudgetConsumers } from "../../src/analysis/confidence.js";
import { recommendTarget } from "../../src/analysis/targets.js";
import { Confidence } from "../../src/core/slo.js";
import { START, synthHistory } from "./synthetic.js";

const part = (c: Confidence, name: string) => c.parts.find((p) => p.name === name)!;
const DAY = 86_400_000;

describe("confidence", () => {
  it("returns every named part with a detail and a weighted score in [0, 1]", () => {
    const c = assessConfidence(synthHistory({ days: 28, perStep: 1000, errorRate: 0.0002 }), {
      target: 99.95,
    });
    expect(Confidence.parse(c)).toEqual(c);
    expect(c.parts.map((p) => p.name)).toEqual([
      "coverage",
      "volume",
      "stability",
      "seasonality",
      "agreement",
      "incident-dominance",
    ]);
    for (const p of c.parts) expect(p.detail.length).toBeGreaterThan(20);
    const w = c.parts.reduce((a, p) => a + p.weight, 0);
    expect(c.score).toBeCloseTo(c.parts.reduce((a, p) => a + p.score * p.weight, 0) / w, 2);
    // A steady, well-covered, busy service is trusted.
    expect(c.score).toBeGreaterThan(0.8);
    expect(part(c, "coverage").score).toBe(1);
    expect(part(c, "volume").score).toBe(1);
    expect(part(c, "seasonality").score).toBe(1);
  });

  it("explains low volume for a flat-100% service", () => {
    const h = synthHistory({ days: 28, perStep: 0.2, errorRate: 0 });
    const { choice } = recommendTarget(h);
    const c = assessConfidence(h, { target: choice.recommended });
    const v = part(c, "volume");
    expect(v.score).toBeLessThan(1);
    expect(v.detail).toMatch(/^low volume:/);
    expect(v.detail).toMatch(/no bad event in 28 days/);
    expect(v.detail).toMatch(/capped/);
  });

  it("lowers confidence when one incident eats most of the budget, and names it as the top consumer", () => {
    const base = { days: 28, perStep: 1000, errorRate: 0.0001 };
    const calm = synthHistory(base);
    const incident = { atDay: 17.25, hours: 3, errorRate: 0.2 };
    const stormy = synthHistory({ ...base, incidents: [incident] });
    const target = recommendTarget(stormy).choice.recommended;
    const calmC = assessConfidence(calm, { target });
    const stormyC = assessConfidence(stormy, { target });
    const dom = part(stormyC, "incident-dominance");
    expect(dom.score).toBeLessThan(0.5);
    expect(dom.score).toBeLessThan(part(calmC, "incident-dominance").score);
    expect(dom.detail).toMatch(/depends on whether an incident like it recurs/);
    expect(stormyC.score).toBeLessThan(calmC.score);
    // The robust spread ignores the one bad day: stability is not double-counted.
    expect(part(stormyC, "stability").score).toBeCloseTo(part(calmC, "stability").score, 1);

    const [top] = topBudgetConsumers(stormy, { granularity: "hour", target });
    const incStart = START + incident.atDay * DAY;
    expect(top!.start).toBeGreaterThanOrEqual(incStart - 3_600_000);
    expect(top!.end).toBeLessThanOrEqual(incStart + incident.hours * 3_600_000 + 3_600_000);
    expect(top!.budgetUsed).toBeGreaterThan(0);
    const [topDay] = topBudgetConsumers(stormy, { granularity: "day" });
    expect(topDay!.start).toBe(START + 17 * DAY);
    expect(topDay!.shareOfBad).toBeGreaterThan(0.8);
  });

  it("gives partial seasonality credit under 4 full weeks", () => {
    const c = assessConfidence(synthHistory({ days: 20, perStep: 500, errorRate: 0.001 }), { target: 99 });
    const s = part(c, "seasonality");
    expect(s.score).toBe(0.5);
    expect(s.detail).toMatch(/only 2 full week\(s\)/);
    expect(part(c, "coverage").score).toBeCloseTo(20 / 28, 3);
  });

  it("counts gaps against coverage", () => {
    const c = assessConfidence(
      synthHistory({ days: 28, perStep: 500, errorRate: 0.001, gaps: [{ atDay: 10, hours: 24 * 5 }] }),
      { target: 99 },
    );
    expect(part(c, "coverage").score).toBeCloseTo(23 / 28, 3);
    expect(part(c, "coverage").detail).toMatch(/steps are missing/);
  });

  it("scores agreement between two sources, and stays neutral with one", () => {
    const metrics = synthHistory({ days: 28, perStep: 1000, errorRate: 0.001, source: "metrics", seed: 1 });
    const close = synthHistory({
      days: 28,
      perStep: 1000,
      errorRate: 0.001,
      source: "span-metrics",
      seed: 2,
    });
    const far = synthHistory({ days: 28, perStep: 1000, errorRate: 0.004, source: "span-metrics", seed: 3 });
    const one = part(assessConfidence(metrics, { target: 99.5 }), "agreement");
    expect(one.weight).toBe(0);
    expect(one.detail).toMatch(/only metrics measures this SLI/);
    expect(part(assessConfidence(metrics, { target: 99.5, otherSource: close }), "agreement").score).toBe(1);
    const farPart = part(assessConfidence(metrics, { target: 99.5, otherSource: far }), "agreement");
    expect(farPart.score).toBeLessThan(0.6);
    expect(farPart.detail).toMatch(/metrics and span-metrics differ by 0\.3\d* pp/);
  });

  it("refuses a target outside (0, 100)", () => {
    expect(() =>
      assessConfidence(synthHistory({ days: 8, perStep: 1, errorRate: 0 }), { target: 100 }),
    ).toThrow(/between 0 and 100/);
  });
});
