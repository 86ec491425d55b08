import type { Artifact } from "../core/proposal.js";
import type { Slo } from "../core/slo.js";
import { type GenerateOptions, generateAll, ruleFile } from "./generate.js";
import { buildDashboard } from "./grafana.js";
import type { SloRules } from "./model.js";
import { ruleTests } from "./rule-tests.js";
import { ruleFileToYaml, ruleTestsToYaml } from "./rules-yaml.js";
import { buildRunbook, type RunbookContext } from "./runbook.js";

export interface RuleArtifacts {
  rules: SloRules[];
  /** The rules file and, when there are alerts to test, its promtool test file. Paths are relative. */
  artifacts: Artifact[];
  notes: string[];
}

/**
 * Rule artifacts for a set of SLOs: `<name>.rules.yml` (recording rules and alerts) and
 * `<name>.rules.test.yml` (promtool unit tests that reference the rules file by its base name, so both
 * must sit in the same directory). Pure: the caller writes and validates them.
 */
export function buildRuleArtifacts(
  slos: Slo[],
  name: string,
  opts: GenerateOptions & { tests?: boolean; rulesPath?: string; testsPath?: string } = {},
): RuleArtifacts {
  const rules = generateAll(slos, opts);
  const service = [...new Set(slos.map((s) => s.service))].join(",");
  const rulesPath = opts.rulesPath ?? `${name}.rules.yml`;
  const artifacts: Artifact[] = [
    { kind: "recording-rules", path: rulesPath, content: ruleFileToYaml(ruleFile(rules)), service },
  ];
  const notes: string[] = [];
  if (opts.tests !== false && !opts.disableAlerts) {
    const base = rulesPath.split("/").pop()!;
    const tests = ruleTests(rules, base, opts);
    notes.push(...tests.notes);
    if (tests.file.tests.length > 0) {
      artifacts.push({
        kind: "rule-tests",
        path: opts.testsPath ?? `${name}.rules.test.yml`,
        content: ruleTestsToYaml(tests.file),
        service,
      });
    }
  }
  return { rules, artifacts, notes };
}

/**
 * The human side of a rule set: one Grafana dashboard per service (`dashboards/<service>.json`) and one
 * runbook per SLO (`runbooks/<service>/<slo>.md`). `context` adds what analysis knows (journey DAG, top
 * error fingerprints) to an SLO's runbook, keyed by SLO id.
 */
export function buildDocArtifacts(
  rules: SloRules[],
  context: Record<string, RunbookContext> = {},
): Artifact[] {
  const out: Artifact[] = [];
  const byService = new Map<string, SloRules[]>();
  for (const r of rules) byService.set(r.slo.service, [...(byService.get(r.slo.service) ?? []), r]);
  for (const [service, list] of byService) {
    out.push({
      kind: "dashboard",
      path: `dashboards/${service}.json`,
      content: `${JSON.stringify(buildDashboard(service, list), null, 2)}\n`,
      service,
    });
    for (const r of list) {
      out.push({
        kind: "runbook",
        path: `runbooks/${service}/${r.slo.name}.md`,
        content: buildRunbook(r, context[r.slo.id] ?? {}),
        service,
        sloId: r.slo.id,
      });
    }
  }
  return out;
}
