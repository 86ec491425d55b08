import { describe, expect, it } from "vitest";
import { goFloat, goFloatPlain } from "../../src/generators/prom-format.js";

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
