import { describe, expect, it } from "vitest";
import { formatDuration, goFloat, goFloatPlain, parseDuration } from "../../src/generators/prom-format.js";

describe("Prometheus durations", () => {
  it("parses single and combined units", () => {
    expect(parseDuration("5m")).toBe(300_000);
    expect(parseDuration("1d12h")).toBe(36 * 3_600_000);
    expect(parseDuration("4w")).toBe(28 * 86_400_000);
    expect(parseDuration("0")).toBe(0);
  });

  it("rejects what Prometheus rejects", () => {
    for (const bad of ["", "5", "1.5h", "5M", "h", "1h1d"]) expect(parseDuration(bad)).toBeUndefined();
  });

  it("prints weeks and years only when exact, like model.Duration", () => {
    expect(formatDuration(30 * 86_400_000)).toBe("30d");
    expect(formatDuration(28 * 86_400_000)).toBe("4w");
    expect(formatDuration(7 * 86_400_000)).toBe("1w");
    expect(formatDuration(36 * 3_600_000)).toBe("1d12h");
    expect(formatDuration(90 * 86_400_000)).toBe("90d");
    expect(formatDuration(0)).toBe("0s");
  });
});

describe("Go float formatting", () => {
  it("prints the shortest round-trip digits as Go's %g does", () => {
    expect(goFloat(99.9 / 100)).toBe("0.9990000000000001");
    expect(goFloat((100 - 99.9) / 100)).toBe("0.0009999999999999432");
    expect(goFloat(14.4)).toBe("14.4");
    expect(goFloat(30)).toBe("30");
    expect(goFloat(0.00001)).toBe("1e-05");
    expect(goFloat(1234567)).toBe("1.234567e+06");
  });

  it("prints plain decimals for the sloth_objective label", () => {
    expect(goFloatPlain(99.9)).toBe("99.9");
    expect(goFloatPlain(95)).toBe("95");
    expect(goFloatPlain(99.99999)).toBe("99.99999");
  });
});
