import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { WindowsCatalog } from "../../src/core/alert-windows.js";
import { buildRuleArtifacts } from "../../src/generators/artifacts.js";
import type { GenerateOptions } from "../../src/generators/generate.js";
import { loadSpecs, toOpenSloV1, toSlothSpecs } from "../../src/generators/spec/index.js";
import { parseAlertWindows } from "../../src/generators/windows.js";
import { FIXTURES, SPECS } from "./helpers.js";

/**
 * Golden files pin the generated artifacts byte for byte (like Sloth's examples/_gen). After an intended
 * change, regenerate with `UPDATE_GOLDEN=1 npx vitest run test/generators/golden.test.ts` and review the diff.
 */

const GOLDEN = join(FIXTURES, "golden");
const update = process.env.UPDATE_GOLDEN === "1";

function check(file: string, actual: string) {
  const path = join(GOLDEN, file);
  if (update) {
    mkdirSync(GOLDEN, { recursive: true });
    writeFileSync(path, actual);
    return;
  }
  expect(existsSync(path), `${path} is missing; run with UPDATE_GOLDEN=1`).toBe(true);
  expect(actual).toBe(readFileSync(path, "utf8"));
}

const week = WindowsCatalog.custom([
  parseAlertWindows(readFileSync(join(FIXTURES, "windows/7d.yaml"), "utf8")),
]);

const cases: { name: string; spec: string; period?: string; opts?: GenerateOptions }[] = [
  { name: "checkout-events", spec: "checkout-events.yml" },
  { name: "checkout-events-28d", spec: "checkout-events.yml", period: "28d" },
  { name: "checkout-events-7d", spec: "checkout-events.yml", period: "7d", opts: { catalog: week } },
  { name: "search-raw", spec: "search-raw.yml" },
  { name: "cart-guarded", spec: "cart-guarded.yml" },
  { name: "payments-openslo-v1", spec: "payments-openslo-v1.yml" },
];

describe("golden rule files", () => {
  for (const c of cases) {
    it(c.name, () => {
      const { slos, issues } = loadSpecs(readFileSync(join(SPECS, c.spec), "utf8"), c.spec, {
        defaultPeriod: c.period ?? "30d",
      });
      expect(issues).toEqual([]);
      const { artifacts } = buildRuleArtifacts(slos, c.name, { ...c.opts, extraLabels: { cmd: "golden" } });
      for (const a of artifacts) check(a.path, a.content);
    });
  }
});

describe("golden spec exports", () => {
  for (const spec of ["checkout-events.yml", "payments-openslo-v1.yml"]) {
    it(spec, () => {
      const { slos } = loadSpecs(readFileSync(join(SPECS, spec), "utf8"), spec);
      const base = spec.replace(/\.yml$/, "");
      check(`${base}.sloth.yml`, toSlothSpecs(slos));
      check(`${base}.openslo.yml`, toOpenSloV1(slos, new WindowsCatalog()));
    });
  }
});
