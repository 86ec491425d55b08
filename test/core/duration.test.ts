import { describe, expect, it } from "vitest";
import { formatDuration, parseDuration } from "../../src/core/duration.js";

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
