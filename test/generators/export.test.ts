import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { WindowsCatalog } from "../../src/core/alert-windows.js";
import type { Slo } from "../../src/core/slo.js";
import { generateAll, ruleFile } from "../../src/generators/generate.js";
import { ruleFileToYaml } from "../../src/generators/rules-yaml.js";
import { loadSpecs, toOpenSloV1, toSlothSpecs } from "../../src/generators/spec/index.js";
import { SPECS } from "./helpers.js";

const FIXTURE_SPECS = [
  "checkout-events.yml",
  "search-raw.yml",
  "cart-guarded.yml",
  "payments-openslo-v1.yml",
];

function load(text: string, file: string, defaultPeriod = "30d"): Slo[] {
  const { slos, issues } = loadSpecs(text, file, { defaultPeriod });
  expect(issues).toEqual([]);
  return slos;
}

const withoutOrigin = (slos: Slo[]) => slos.map(({ origin: _o, ...rest }) => rest);

/** The rules a set of SLOs produces, with the input format label neutralised. */
const rulesOf = (slos: Slo[]) =>
  ruleFileToYaml(ruleFile(generateAll(slos.map((s) => ({ ...s, origin: { spec: "any" } })))));

describe("Sloth export", () => {
  for (const spec of FIXTURE_SPECS) {
    it(`round-trips ${spec} through prometheus/v1`, () => {
      const original = load(readFileSync(join(SPECS, spec), "utf8"), spec);
      const exported = toSlothSpecs(original);
      for (const doc of parseAllDocuments(exported) as unknown as { toJS(): { version: string } }[]) {
        expect(doc.toJS().version).toBe("prometheus/v1");
      }
      const period = original[0]!.period;
      const again = load(exported, "exported.yml", period);
      const strip = (s: Slo[]) => withoutOrigin(s).map(({ displayName: _d, ...r }) => r);
      expect(strip(again)).toEqual(strip(original));
      expect(rulesOf(again)).toBe(rulesOf(original));
    });
  }

  it("says which period to generate with, since a Sloth spec carries none", () => {
    const slos = load(readFileSync(join(SPECS, "payments-openslo-v1.yml"), "utf8"), "p.yml");
    expect(toSlothSpecs(slos)).toContain("# Generate with: --default-slo-period 28d");
  });
});

describe("OpenSLO v1 export", () => {
  for (const spec of FIXTURE_SPECS) {
    it(`round-trips ${spec} with the same rules`, () => {
      const original = load(readFileSync(join(SPECS, spec), "utf8"), spec);
      const exported = toOpenSloV1(original, new WindowsCatalog());
      const again = load(exported, "exported.yml");
      expect(again.map((s) => s.origin?.spec)).toEqual(original.map(() => "openslo/v1"));
      expect(again.map((s) => [s.id, s.period, s.objective])).toEqual(
        original.map((s) => [s.id, s.period, s.objective]),
      );
      expect(rulesOf(again)).toBe(rulesOf(original));
    });
  }

  it("writes one burnrate condition per window pair with the period's factors", () => {
    const slos = load(readFileSync(join(SPECS, "checkout-events.yml"), "utf8"), "c.yml", "28d");
    interface Condition {
      spec: { severity: string; condition: { threshold: number; lookbackWindow: string } };
    }
    interface Exported {
      spec: { alertPolicies: { spec: { conditions: Condition[] } }[] };
    }
    const docs = parseAllDocuments(toOpenSloV1(slos, new WindowsCatalog())) as unknown as {
      toJS(): Exported;
    }[];
    const policies = docs[0]!.toJS().spec.alertPolicies;
    const conditions = policies.flatMap((p) =>
      p.spec.conditions.map((c) => [
        c.spec.severity,
        c.spec.condition.threshold,
        c.spec.condition.lookbackWindow,
      ]),
    );
    expect(conditions).toEqual([
      ["page", 13.44, "1h"],
      ["page", 5.6000000000000005, "6h"],
      ["ticket", 2.8000000000000003, "1d"],
      ["ticket", 0.9333333333333333, "3d"],
    ]);
  });
});
