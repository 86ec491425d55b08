/**
 * Benchmark: rules per SLO, and the time to generate and validate 1,000 SLOs.
 *
 *   npm run bench:generate [-- --slos 1000 --test-sample 20]
 *
 * Builds a Sloth prometheus/v1 spec with N SLOs (100 services, events and raw SLIs, latency from histogram
 * buckets, some with alerts disabled), then times each stage: spec load, rule generation, YAML writing,
 * the in-process checks (YAML round-trip, PromQL parse), `promtool check rules` once on the whole file, and
 * `promtool test rules` on a sample of SLOs (all of them would take minutes; the per-SLO time is reported).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { buildRuleArtifacts } from "../src/generators/artifacts.js";
import { isAlertingRule } from "../src/generators/model.js";
import { loadSpecs } from "../src/generators/spec/index.js";
import { ruleFileErrors, yamlRoundTripErrors } from "../src/generators/validate/index.js";
import { checkRules, findPromtool, testRules } from "../src/generators/validate/promtool.js";

const { values } = parseArgs({
  options: {
    slos: { type: "string", default: "1000" },
    "test-sample": { type: "string", default: "20" },
  },
});
const total = Number(values.slos);
const sample = Number(values["test-sample"]);

function spec(n: number): string {
  const perService = 10;
  const docs: string[] = [];
  for (let s = 0; s * perService < n; s++) {
    const lines = [
      `version: "prometheus/v1"`,
      `service: "svc-${s}"`,
      "labels:",
      `  team: "team-${s % 7}"`,
      "slos:",
    ];
    for (let i = 0; i < perService && s * perService + i < n; i++) {
      const objective = [99, 99.5, 99.9, 99.95][i % 4];
      lines.push(`  - name: "slo-${i}"`, `    objective: ${objective}`, "    sli:");
      if (i % 3 === 0) {
        lines.push(
          "      raw:",
          `        error_ratio_query: sum(rate(errors_total{service="svc-${s}",route="/r${i}"}[{{.window}}])) / sum(rate(requests_total{service="svc-${s}",route="/r${i}"}[{{.window}}]))`,
        );
      } else if (i % 3 === 1) {
        lines.push(
          "      events:",
          `        error_query: sum(rate(http_request_duration_seconds_count{service="svc-${s}"}[{{.window}}])) - sum(rate(http_request_duration_seconds_bucket{service="svc-${s}",le="0.3"}[{{.window}}]))`,
          `        total_query: sum(rate(http_request_duration_seconds_count{service="svc-${s}"}[{{.window}}]))`,
        );
      } else {
        lines.push(
          "      events:",
          `        error_query: sum(rate(http_requests_total{service="svc-${s}",code=~"5.."}[{{.window}}]))`,
          `        total_query: sum(rate(http_requests_total{service="svc-${s}"}[{{.window}}]))`,
        );
      }
      lines.push("    alerting:", `      name: Svc${s}Slo${i}Burn`);
      if (i % 5 === 4) lines.push("      page_alert: {disable: true}", "      ticket_alert: {disable: true}");
      else
        lines.push(
          "      page_alert:",
          "        labels: {severity: critical}",
          "      ticket_alert:",
          "        labels: {severity: warning}",
        );
    }
    docs.push(lines.join("\n"));
  }
  return docs.join("\n---\n");
}

const cpu: Record<string, number> = {};
/** Wall time of a stage; its CPU time (this process only) goes into `cpu` under the label. */
const time = async <T>(f: () => T | Promise<T>, label?: string): Promise<[T, number]> => {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const v = await f();
  const c = process.cpuUsage(c0);
  if (label) cpu[label] = (c.user + c.system) / 1000;
  return [v, performance.now() - t0];
};

const text = spec(total);
const [loaded, loadMs] = await time(() => loadSpecs(text, "bench.yml"), "load");
if (loaded.issues.length > 0) throw new Error(`bench spec is invalid: ${loaded.issues[0]!.message}`);
const [built, genMs] = await time(() => buildRuleArtifacts(loaded.slos, "bench"), "generate");
const rulesYaml = built.artifacts.find((a) => a.kind === "recording-rules")!.content;
const ruleCount = built.rules.reduce(
  (n, r) => n + (r.sli?.rules.length ?? 0) + (r.meta?.rules.length ?? 0) + (r.alerts?.rules.length ?? 0),
  0,
);
const withAlerts = built.rules.filter((r) => (r.alerts?.rules ?? []).some(isAlertingRule));
const perAlerting = withAlerts.length
  ? withAlerts[0]!.sli!.rules.length + withAlerts[0]!.meta!.rules.length + withAlerts[0]!.alerts!.rules.length
  : 0;
const noAlerts = built.rules.find((r) => !r.alerts);
const perSilent = noAlerts ? noAlerts.sli!.rules.length + noAlerts.meta!.rules.length : 0;

const dir = mkdtempSync(join(tmpdir(), "slo-scout-bench-"));
const rulesPath = join(dir, "bench.rules.yml");
writeFileSync(rulesPath, rulesYaml);
const file = { path: rulesPath, display: "bench.rules.yml", text: rulesYaml };
const [inProcess, inProcessMs] = await time(
  () => [...yamlRoundTripErrors(file), ...ruleFileErrors(file)],
  "validate",
);
if (inProcess.length > 0) throw new Error(`generated rules failed validation: ${inProcess[0]}`);

const promtool = findPromtool();
let checkMs: number | undefined;
let testPerSloMs: number | undefined;
if (promtool) {
  const [check, ms] = await time(() => checkRules([rulesPath], promtool));
  if (!check.ok) throw new Error(`promtool check rules failed:\n${check.output}`);
  checkMs = ms;
  const subset = loaded.slos.filter((_, i) => i % 5 !== 4).slice(0, sample);
  const small = buildRuleArtifacts(subset, "sample");
  for (const a of small.artifacts) writeFileSync(join(dir, a.path), a.content);
  const [test, tms] = await time(() => testRules([join(dir, "sample.rules.test.yml")], promtool));
  if (!test.ok) throw new Error(`promtool test rules failed:\n${test.output}`);
  testPerSloMs = tms / subset.length;
}
rmSync(dir, { recursive: true, force: true });

const fmt = (ms: number | undefined, label?: string) =>
  ms === undefined
    ? "n/a (promtool missing)"
    : `${(ms / 1000).toFixed(2)} s${label && cpu[label] !== undefined ? ` (cpu ${(cpu[label]! / 1000).toFixed(2)} s)` : ""}`;
const rows: [string, string][] = [
  ["SLOs", String(total)],
  ["rules per SLO (page + ticket alerts)", String(perAlerting)],
  ["rules per SLO (alerts disabled)", String(perSilent)],
  ["rules in total", String(ruleCount)],
  ["rules file size", `${(rulesYaml.length / 1024 / 1024).toFixed(1)} MiB`],
  ["load specs (parse + Sloth checks)", fmt(loadMs, "load")],
  ["generate rules + rule tests + YAML", fmt(genMs, "generate")],
  ["YAML round-trip + PromQL parse (lezer)", fmt(inProcessMs, "validate")],
  ["promtool check rules (one file)", fmt(checkMs)],
  ["generate + validate, total", fmt(loadMs + genMs + inProcessMs + (checkMs ?? 0))],
  [
    `promtool test rules per SLO (sample of ${sample})`,
    testPerSloMs === undefined ? "n/a" : `${testPerSloMs.toFixed(0)} ms`,
  ],
];
for (const [k, v] of rows) console.log(`${k.padEnd(48)} ${v}`);
console.log(
  `(wall times; cpu = this process; load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores)`,
);
console.log(
  JSON.stringify({
    bench: "generate",
    slos: total,
    rulesPerSlo: perAlerting,
    rulesPerSloNoAlerts: perSilent,
    loadMs: Math.round(loadMs),
    generateMs: Math.round(genMs),
    inProcessValidateMs: Math.round(inProcessMs),
    promtoolCheckMs: checkMs === undefined ? null : Math.round(checkMs),
    promtoolTestPerSloMs: testPerSloMs === undefined ? null : Math.round(testPerSloMs),
  }),
);
