import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { type Document, LineCounter, parseAllDocuments, parseDocument, stringify } from "yaml";
import { parseDuration } from "../../core/duration.js";
import { formatIssue, loadSpecs, specKind } from "../spec/index.js";
import { lineAt, type SpecDoc } from "../spec/source.js";
import { dashboardValidator } from "./dashboard.js";
import { lineOfOffset, promqlErrors } from "./promql.js";
import { checkRules, findPromtool, testRules } from "./promtool.js";
import { runbookValidator } from "./runbook.js";
import type { ArtifactFile, ArtifactValidator, ValidateContext } from "./validator.js";

/**
 * Validation of an artifact directory. Each kind of artifact has a validator that claims its files; add a
 * validator to VALIDATORS for a new kind (dashboards, runbooks) and `slo-scout validate` and `generate`
 * pick it up. Every message is `file:line: what is wrong`.
 */

export interface ValidationReport {
  ok: boolean;
  messages: string[];
  notes: string[];
  /** Files each validator checked, by kind. */
  checked: Record<string, string[]>;
  /** Files no validator claimed. */
  skipped: string[];
}

const isYamlPath = (p: string) => /\.ya?ml$/i.test(p);
const asRecord = (v: unknown) =>
  v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;

interface ParsedYaml {
  docs: Document.Parsed[];
  lines: LineCounter;
}

const parsedCache = new WeakMap<ArtifactFile, ParsedYaml>();

/** The file's YAML documents with line positions, parsed once per file however many checks read them. */
function parsedYaml(file: ArtifactFile): ParsedYaml {
  let p = parsedCache.get(file);
  if (!p) {
    const lines = new LineCounter();
    const docs = parseAllDocuments(file.text, { lineCounter: lines, uniqueKeys: true });
    p = { docs: Array.isArray(docs) ? docs : [], lines };
    parsedCache.set(file, p);
  }
  return p;
}

/** YAML that parses, holds no duplicate keys, and survives parse → stringify → parse unchanged. */
export function yamlRoundTripErrors(file: ArtifactFile): string[] {
  const { docs: list, lines } = parsedYaml(file);
  const out: string[] = [];
  for (const doc of list) {
    for (const e of [...doc.errors]) {
      out.push(`${file.display}:${e.linePos?.[0]?.line ?? 1}: invalid YAML: ${e.message.split("\n")[0]}`);
    }
    if (doc.errors.length > 0) continue;
    const data = doc.toJS();
    const again = parseDocument(stringify(data)).toJS();
    if (!isDeepStrictEqual(data, again)) {
      out.push(
        `${file.display}:${lines.linePos(doc.range[0]).line}: YAML does not round-trip (parse, write, parse changes the data)`,
      );
    }
  }
  return out;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Structure and PromQL of a Prometheus rule file, with the line of each problem. */
export function ruleFileErrors(file: ArtifactFile): string[] {
  const { docs, lines } = parsedYaml(file);
  const doc = docs[0];
  if (!doc || doc.errors.length > 0) return [];
  const later = docs.slice(1).filter((d) => d.contents !== null);
  if (later.length > 0) {
    const line = lines.linePos(later[0]!.range[0]).line;
    return [
      `${file.display}:${line}: Prometheus reads only the first YAML document of a rule file; the rules in the ${later.length} later document(s) would be ignored (one document per file)`,
    ];
  }
  const sd: SpecDoc = { file: file.display, index: 0, doc, lines, data: doc.toJS() };
  const at = (path: (string | number)[]) => `${file.display}:${lineAt(sd, path) ?? 1}`;
  const out: string[] = [];
  const groups = asRecord(sd.data)?.groups;
  if (!Array.isArray(groups)) return [`${at(["groups"])}: groups must be a list`];
  const names = new Set<string>();
  groups.forEach((g, gi) => {
    const group = asRecord(g);
    if (!group || typeof group.name !== "string" || group.name === "") {
      out.push(`${at(["groups", gi])}: group ${gi + 1} needs a name`);
      return;
    }
    if (names.has(group.name))
      out.push(`${at(["groups", gi, "name"])}: group name ${JSON.stringify(group.name)} is used twice`);
    names.add(group.name);
    if (!Array.isArray(group.rules)) {
      out.push(`${at(["groups", gi])}: group ${JSON.stringify(group.name)} needs a rules list`);
      return;
    }
    group.rules.forEach((r, ri) => {
      const rule = asRecord(r);
      const base = ["groups", gi, "rules", ri];
      if (!rule) {
        out.push(`${at(base)}: rule ${ri + 1} must be a mapping`);
        return;
      }
      const what = typeof rule.record === "string" ? `record ${rule.record}` : `alert ${String(rule.alert)}`;
      if ((rule.record === undefined) === (rule.alert === undefined)) {
        out.push(`${at(base)}: a rule needs exactly one of record or alert`);
      }
      if (typeof rule.record === "string" && !METRIC_NAME.test(rule.record)) {
        out.push(`${at([...base, "record"])}: ${JSON.stringify(rule.record)} is not a valid metric name`);
      }
      if (rule.record !== undefined && (rule.for !== undefined || rule.annotations !== undefined)) {
        out.push(`${at(base)}: ${what}: recording rules take no for or annotations`);
      }
      if (typeof rule.for === "string" && parseDuration(rule.for) === undefined) {
        out.push(`${at([...base, "for"])}: ${what}: for ${JSON.stringify(rule.for)} is not a duration`);
      }
      for (const key of ["labels", "annotations"] as const) {
        const m = rule[key];
        if (m === undefined) continue;
        const rec = asRecord(m);
        if (!rec) {
          out.push(`${at([...base, key])}: ${what}: ${key} must be a mapping`);
          continue;
        }
        for (const [k, v] of Object.entries(rec)) {
          if (key === "labels" && !LABEL_NAME.test(k))
            out.push(`${at([...base, key, k])}: ${what}: invalid label name ${JSON.stringify(k)}`);
          if (typeof v !== "string")
            out.push(`${at([...base, key, k])}: ${what}: ${key} value of ${k} must be a string`);
        }
      }
      if (typeof rule.expr !== "string" || rule.expr.trim() === "") {
        out.push(`${at([...base, "expr"])}: ${what}: expr is required`);
        return;
      }
      const errors = promqlErrors(rule.expr);
      if (errors.length > 0) {
        const exprLine = lineAt(sd, [...base, "expr"]) ?? 1;
        // A block scalar starts on the line after its `|` indicator.
        const offsetLines = lineOfOffset(rule.expr, errors[0]!.offset) - 1;
        const block = rule.expr.includes("\n") ? 1 : 0;
        out.push(
          `${file.display}:${exprLine + block + offsetLines}: ${what}: PromQL does not parse: ${errors[0]!.message}`,
        );
      }
    });
  });
  return out;
}

const rulesValidator: ArtifactValidator = {
  kind: "rules",
  matches: (f) => isYamlPath(f.path) && Array.isArray(asRecord(f.data)?.groups),
  async validate(files, ctx) {
    const out: string[] = [];
    for (const f of files) out.push(...yamlRoundTripErrors(f), ...ruleFileErrors(f));
    if (ctx.promtool && files.length > 0) {
      const res = await checkRules(
        files.map((f) => f.path),
        ctx.promtool,
      );
      out.push(...res.messages.map((m) => relativize(m, files)));
    } else if (files.length > 0)
      ctx.notes.push("promtool not found: `promtool check rules` skipped (install the prometheus package)");
    return out;
  },
};

/**
 * Points a promtool test failure at the check that failed: the line of the `alert_rule_test` entry with
 * that alert name and eval time, and the scenario written as a comment above it.
 */
export function locateTestFailures(file: ArtifactFile, output: string): string[] {
  const { docs, lines } = parsedYaml(file);
  const doc = docs[0];
  if (!doc) return [];
  const data = asRecord(doc.toJS());
  const tests = Array.isArray(data?.tests) ? data.tests : [];
  const out: string[] = [];
  let testName: string | undefined;
  for (const raw of output.split("\n")) {
    const name = /^\s*name: (.*),$/.exec(raw);
    if (name) testName = name[1];
    const m = /alertname: ([^,]+), time: ([^,]+),/.exec(raw);
    if (!m) continue;
    const [, alertname, time] = m;
    tests.forEach((t, ti) => {
      const test = asRecord(t);
      if (testName !== undefined && test?.name !== testName) return;
      const checks = Array.isArray(test?.alert_rule_test) ? test.alert_rule_test : [];
      checks.forEach((c, ci) => {
        const check = asRecord(c);
        if (check?.alertname !== alertname || check?.eval_time !== time) return;
        const node = doc.getIn(["tests", ti, "alert_rule_test", ci], true) as
          | { range?: [number]; commentBefore?: string }
          | undefined;
        const line = node?.range ? lines.linePos(node.range[0]).line : 1;
        const scenario = node?.commentBefore?.trim();
        out.push(
          `${file.display}:${line}: alert ${alertname} at ${time}${scenario ? ` (${scenario})` : ""}: not the alerts the test expects`,
        );
      });
    });
  }
  return out;
}

const ruleTestsValidator: ArtifactValidator = {
  kind: "rule-tests",
  matches: (f) =>
    isYamlPath(f.path) &&
    Array.isArray(asRecord(f.data)?.rule_files) &&
    Array.isArray(asRecord(f.data)?.tests),
  async validate(files, ctx) {
    const out: string[] = [];
    for (const f of files) out.push(...yamlRoundTripErrors(f));
    if (ctx.promtool && files.length > 0) {
      const res = await testRules(
        files.map((f) => f.path),
        ctx.promtool,
      );
      for (const failure of res.failures ?? []) {
        const f = files.find((x) => x.path === failure.file);
        if (f) out.push(...locateTestFailures(f, failure.output));
      }
      out.push(...res.messages.map((m) => relativize(m, files)));
    } else if (files.length > 0)
      ctx.notes.push("promtool not found: `promtool test rules` skipped (install the prometheus package)");
    return out;
  },
};

const specValidator: ArtifactValidator = {
  kind: "slo-spec",
  matches: (f) => isYamlPath(f.path) && specKind(f.data) !== undefined,
  async validate(files) {
    return files.flatMap((f) => loadSpecs(f.text, f.display).issues.map(formatIssue));
  },
};

/** The validators `validate` runs, in order. Add new artifact kinds here. */
export const VALIDATORS: ArtifactValidator[] = [
  specValidator,
  rulesValidator,
  ruleTestsValidator,
  dashboardValidator,
  runbookValidator,
];

function relativize(message: string, files: ArtifactFile[]): string {
  let out = message;
  for (const f of files) out = out.split(f.path).join(f.display);
  return out;
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith(".")) continue;
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...walk(p));
    else if (entry.isFile()) out.push(p);
  }
  return out.sort();
}

export function readArtifact(path: string, root?: string): ArtifactFile {
  const text = readFileSync(path, "utf8");
  const file: ArtifactFile = { path, display: root ? relative(root, path) || path : path, text };
  if (isYamlPath(path)) {
    const docs = parseAllDocuments(text);
    const first = Array.isArray(docs) ? docs.find((d) => d.contents !== null) : undefined;
    if (first && docs.every((d) => d.errors.length === 0)) file.data = first.toJS();
  }
  return file;
}

/** Validates the given files (each claimed by the first validator that matches). */
export async function validateFiles(
  files: ArtifactFile[],
  opts: { promtool?: string | null; validators?: ArtifactValidator[] } = {},
): Promise<ValidationReport> {
  const ctx: ValidateContext = {
    promtool: opts.promtool === null ? undefined : (opts.promtool ?? findPromtool()),
    notes: [],
  };
  const validators = opts.validators ?? VALIDATORS;
  const claimed = new Map<ArtifactValidator, ArtifactFile[]>();
  const skipped: string[] = [];
  const messages: string[] = [];
  for (const f of files) {
    const v = validators.find((x) => x.matches(f));
    if (v) claimed.set(v, [...(claimed.get(v) ?? []), f]);
    else if (isYamlPath(f.path) && f.data === undefined) messages.push(...yamlRoundTripErrors(f));
    else skipped.push(f.display);
  }
  const checked: Record<string, string[]> = {};
  for (const v of validators) {
    const list = claimed.get(v);
    if (!list) continue;
    checked[v.kind] = list.map((f) => f.display);
    messages.push(...(await v.validate(list, ctx)));
  }
  return { ok: messages.length === 0, messages, notes: [...new Set(ctx.notes)], checked, skipped };
}

/** Validates every file under a directory (or one file). */
export async function validatePath(
  target: string,
  opts: { promtool?: string | null; validators?: ArtifactValidator[] } = {},
): Promise<ValidationReport> {
  const isDir = statSync(target).isDirectory();
  const paths = isDir ? walk(target) : [target];
  return validateFiles(
    paths.map((p) => readArtifact(p, isDir ? target : undefined)),
    opts,
  );
}
