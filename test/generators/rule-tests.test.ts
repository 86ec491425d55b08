import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { WindowsCatalog } from "../../src/core/alert-windows.js";
import type { Slo } from "../../src/core/slo.js";
import { buildRuleArtifacts } from "../../src/generators/artifacts.js";
import type { GenerateOptions } from "../../src/generators/generate.js";
import { generateSloRules } from "../../src/generators/generate.js";
import { expandAnnotation, expectedSeverities, sloRuleTests } from "../../src/generators/rule-tests.js";
import { loadSpecs } from "../../src/generators/spec/index.js";
import { readArtifact, validateFiles } from "../../src/generators/validate/index.js";
import { parseAlertWindows } from "../../src/generators/windows.js";
import { FIXTURES, promtool, SPECS } from "./helpers.js";

const bin = promtool();
const work = mkdtempSync(join(tmpdir(), "slo-scout-ruletests-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function slosOf(spec: string, defaultPeriod = "30d"): Slo[] {
  const { slos, issues } = loadSpecs(readFileSync(join(SPECS, spec), "utf8"), spec, { defaultPeriod });
  expect(issues).toEqual([]);
  return slos;
}

/** Writes the artifacts of a generation and returns the directory and file paths. */
function write(name: string, slos: Slo[], opts: GenerateOptions = {}) {
  const dir = mkdtempSync(join(work, `${name}-`));
  const built = buildRuleArtifacts(slos, name, opts);
  for (const a of built.artifacts) writeFileSync(join(dir, a.path), a.content);
  return { dir, built, rules: join(dir, `${name}.rules.yml`), tests: join(dir, `${name}.rules.test.yml`) };
}

async function validate(paths: string[]) {
  return validateFiles(
    paths.map((p) => readArtifact(p)),
    { promtool: bin ?? null },
  );
}

const week = WindowsCatalog.custom([
  parseAlertWindows(readFileSync(join(FIXTURES, "windows/7d.yaml"), "utf8")),
]);

const cases: { name: string; spec: string; period?: string; opts?: GenerateOptions }[] = [
  { name: "events-30d", spec: "checkout-events.yml" },
  {
    name: "events-28d-extra-labels",
    spec: "checkout-events.yml",
    period: "28d",
    opts: { extraLabels: { env: "prod" } },
  },
  { name: "events-7d-custom-windows", spec: "checkout-events.yml", period: "7d", opts: { catalog: week } },
  { name: "events-min-events", spec: "checkout-events.yml", opts: { minEvents: 100 } },
  { name: "raw-for-disabled", spec: "search-raw.yml" },
  { name: "guarded", spec: "cart-guarded.yml" },
  { name: "openslo-v1", spec: "payments-openslo-v1.yml" },
];

describe.skipIf(!bin)(
  "generated artifacts pass promtool check rules and promtool test rules",
  { timeout: 120_000 },
  () => {
    for (const c of cases) {
      it(c.name, async () => {
        const { rules, tests, built } = write(c.name, slosOf(c.spec, c.period), c.opts);
        expect(built.artifacts.map((a) => a.kind)).toEqual(["recording-rules", "rule-tests"]);
        const report = await validate([rules, tests]);
        expect(report.messages).toEqual([]);
        expect(report.checked).toEqual({ rules: [rules], "rule-tests": [tests] });
        expect(report.ok).toBe(true);
      });
    }
  },
);

describe.skipIf(!bin)("the rule tests are real: broken alerts fail them", { timeout: 120_000 }, () => {
  const mutants: [string, string, (s: string) => string][] = [
    ["a page factor off by 10x", "checkout-events.yml", (s) => s.replaceAll("(14.4 * ", "(1.44 * ")],
    ["a ticket factor 3% low", "checkout-events.yml", (s) => s.replaceAll("(3 * ", "(2.9 * ")],
    ["the windows of a pair joined by or", "checkout-events.yml", (s) => s.replace(/^(\s+)and$/m, "$1or")],
    ["the pairs joined by and", "checkout-events.yml", (s) => s.replace(/^(\s+)or$/m, "$1and")],
    [
      "the long page window swapped for the short one",
      "checkout-events.yml",
      (s) => s.replace("ratio_rate1h{", "ratio_rate5m{"),
    ],
    [
      "a lost alert label",
      "checkout-events.yml",
      (s) => s.replace("category: availability\n      severity: critical", "severity: critical"),
    ],
    [
      "a low-traffic guard ten times stricter",
      "cart-guarded.yml",
      (s) => s.replaceAll(">= 500)", ">= 5000)"),
    ],
    [
      "no low-traffic guard",
      "cart-guarded.yml",
      (s) =>
        s.replaceAll(/\n\s+and on\(sloth_id, sloth_service, sloth_slo\)\n\s+max\(slo:sli_events[^\n]+/g, ""),
    ],
  ];
  for (const [what, spec, mutate] of mutants) {
    it(what, async () => {
      const { rules, tests } = write("mutant", slosOf(spec));
      const original = readFileSync(rules, "utf8");
      const changed = mutate(original);
      expect(changed).not.toBe(original);
      writeFileSync(rules, changed);
      const report = await validate([tests]);
      expect(report.ok).toBe(false);
      expect(report.messages.join("\n")).toMatch(/promtool test rules failed/);
    });
  }
});

describe("rule-test scenarios", () => {
  const slo = slosOf("checkout-events.yml")[0]!;
  const rules = generateSloRules(slo);
  const at = (m: number) => new Map([5, 30, 60, 120, 360, 1440, 4320].map((min) => [min * 60_000, m]));

  it("expect the page and the ticket at 15x and nothing at 0.5x", () => {
    expect([...expectedSeverities(rules, at(15))]).toEqual(["page", "ticket"]);
    expect([...expectedSeverities(rules, at(0.5))]).toEqual([]);
    expect([...expectedSeverities(rules, at(15), { minEvents: 10, events: 9 })]).toEqual([]);
  });

  it("check the page within the short window of the burn starting, then every other scenario", () => {
    const { tests } = sloRuleTests(rules);
    expect(tests).toHaveLength(1);
    const checks = tests[0]!.alert_rule_test;
    expect(checks[0]).toMatchObject({ eval_time: "5m", comment: expect.stringMatching(/^burning at 15x/) });
    expect(checks[0]!.exp_alerts.map((a) => a.exp_labels.sloth_severity)).toEqual(["page", "ticket"]);
    expect(checks[1]).toMatchObject({ comment: expect.stringMatching(/0\.5x/), exp_alerts: [] });
    expect(checks.length).toBe(12);
  });

  it("expand label templates in annotations and give up on others", () => {
    expect(
      expandAnnotation("{{$labels.sloth_service}} is {{ $labels.x }}", { sloth_service: "a", x: "b" }),
    ).toBe("a is b");
    expect(expandAnnotation("{{ $value | humanize }}", {})).toBeUndefined();
    const templated: Slo = { ...slo, alerting: { ...slo.alerting, annotations: { value: "{{ $value }}" } } };
    const res = sloRuleTests(generateSloRules(templated));
    expect(res.tests).toEqual([]);
    expect(res.note).toMatch(/annotation value uses template actions/);
  });

  it("the test file references the rules file next to it", () => {
    const { built } = write("ref", [slo]);
    const tests = parse(built.artifacts[1]!.content) as { rule_files: string[] };
    expect(tests.rule_files).toEqual(["ref.rules.yml"]);
  });
});
