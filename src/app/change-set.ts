import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { Slo } from "../core/slo.js";
import { buildDocArtifacts, buildRuleArtifacts } from "../generators/artifacts.js";
import { DuplicateSloError, type GenerateOptions } from "../generators/generate.js";
import { LowTrafficGuardError } from "../generators/recording-rules.js";
import type { RunbookContext } from "../generators/runbook.js";
import { formatIssue, loadSpecs } from "../generators/spec/index.js";
import { readArtifact, type ValidationReport, validateFiles } from "../generators/validate/index.js";
import type { ChangeFile } from "../store/ports.js";
import { LAYOUT } from "./layout.js";
import { done, type Outcome, refuse } from "./outcome.js";

export interface ChangeSet {
  service: string;
  slos: Slo[];
  /** The spec first, then rules, rule tests, dashboard and runbooks; paths relative to the repository. */
  files: ChangeFile[];
  notes: string[];
}

/** The options `slo-scout generate` uses by default, so regenerating a committed spec is byte-identical. */
export const GENERATE_DEFAULTS: GenerateOptions = {
  extraLabels: {},
  annotations: {},
  optimized: true,
  version: "slo-scout",
};

/**
 * Every artifact of one service's spec: the spec itself, recording and alert rules with their promtool
 * tests, the Grafana dashboard and a runbook per SLO (`runbooks` adds what analysis knows, by SLO id).
 * A Sloth spec carries no period, so `period` is the one the SLOs were backtested on, as
 * `slo-scout generate --default-slo-period` would be told.
 * Pure; a spec that does not load or generate comes back as a validation refusal with file:line messages.
 */
export function buildChangeSet(
  service: string,
  spec: ChangeFile,
  opts: { period: string; runbooks?: Record<string, RunbookContext> },
): Outcome<ChangeSet> {
  const { slos, issues } = loadSpecs(spec.content, spec.path, { defaultPeriod: opts.period });
  if (issues.length > 0)
    return refuse("validation-failed", `${spec.path} is not a valid SLO spec`, issues.map(formatIssue));
  if (slos.length === 0) return refuse("validation-failed", `${spec.path} holds no SLOs`);
  try {
    const built = buildRuleArtifacts(slos, service, {
      ...GENERATE_DEFAULTS,
      rulesPath: LAYOUT.rules(service),
      testsPath: LAYOUT.ruleTests(service),
    });
    const docs = buildDocArtifacts(built.rules, opts.runbooks ?? {});
    return done({
      service,
      slos,
      files: [spec, ...[...built.artifacts, ...docs].map((a) => ({ path: a.path, content: a.content }))],
      notes: built.notes,
    });
  } catch (err) {
    if (err instanceof DuplicateSloError || err instanceof LowTrafficGuardError)
      return refuse("validation-failed", err.message);
    throw err;
  }
}

/**
 * Runs the validators (PromQL parse, YAML round trip, promtool check and test, dashboard schema, runbook
 * front matter) on files laid out as they would be committed. promtool needs real files, so they are
 * staged in a temporary directory that is removed afterwards.
 */
export async function validateChangeFiles(files: ChangeFile[]): Promise<ValidationReport> {
  const staging = mkdtempSync(join(tmpdir(), "slo-scout-change-"));
  try {
    for (const f of files) {
      const target = join(staging, f.path);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, f.content);
    }
    return await validateFiles(files.map((f) => readArtifact(join(staging, f.path), staging)));
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
