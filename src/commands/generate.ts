import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, extname, join, relative } from "node:path";
import { WindowsCatalog, WindowsError } from "../core/alert-windows.js";
import { parseDuration } from "../core/duration.js";
import type { Slo } from "../core/slo.js";
import { buildDocArtifacts, buildRuleArtifacts } from "../generators/artifacts.js";
import { assertUniqueSlos, DuplicateSloError, type GenerateOptions } from "../generators/generate.js";
import { LowTrafficGuardError } from "../generators/recording-rules.js";
import { formatIssue, loadSpecs, type SpecIssue } from "../generators/spec/index.js";
import { readArtifact, validateFiles } from "../generators/validate/index.js";
import { parseAlertWindows } from "../generators/windows.js";
import { type Command, parseFlags, UsageError } from "./command.js";

const usage = `Usage: slo-scout generate <spec.yml | dir> [options]

Generates Prometheus recording rules, multi-window multi-burn-rate alerts and their promtool unit tests
from Sloth (prometheus/v1, sloth.slok.dev/v1) or OpenSLO (v1alpha, v1) specs, then validates them (PromQL
parse, YAML round-trip, promtool check rules, promtool test rules). Nothing is written when validation fails.

Options (named as Sloth's, so scripts port over):
  -i, --input PATH                 spec file or directory (same as the positional argument)
  -o, --out DIR|FILE               write <name>.rules.yml and <name>.rules.test.yml into DIR, or the rules
                                   to FILE (.yml) and the tests beside it; without it (or with -) the
                                   rules are printed to stdout
      --default-slo-period DUR     period for specs that carry none (default 30d)
  -l, --extra-labels k=v           label added to every recording rule (repeatable)
  -w, --slo-period-windows-path DIR  directory of Sloth AlertWindows files replacing the built-in 28d/30d
      --disable-recordings         generate only the alerts
      --disable-alerts             generate only the recording rules
      --disable-optimized-rules    compute the period ratio from raw data instead of the 5m rule
      --min-events N               low-traffic guard: a window pair alerts only when its long window holds
                                   at least N events (events SLIs; off by default)
      --alert-annotation k=v       annotation added to every alert, e.g. runbook_url=https://…/{service}/{slo}
                                   ({service}, {slo}, {id} are filled in; repeatable)
      --no-tests                   do not generate promtool rule tests
      --docs                       also write dashboards/<service>.json (Grafana) and
                                   runbooks/<service>/<slo>.md (needs --out DIR)
`;

function keyValues(list: string[] | undefined, flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list ?? []) {
    const i = item.indexOf("=");
    if (i <= 0) throw new UsageError(`${flag} takes key=value, got ${JSON.stringify(item)}`);
    out[item.slice(0, i)] = item.slice(i + 1);
  }
  return out;
}

function specFiles(input: string): string[] {
  if (!statSync(input).isDirectory()) return [input];
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.ya?ml$/i.test(e.name)) out.push(p);
    }
  };
  walk(input);
  return out.sort();
}

export function loadCatalog(dir: string): WindowsCatalog {
  const files = specFiles(dir);
  if (files.length === 0) throw new WindowsError(`${dir}: no AlertWindows YAML files found`);
  return WindowsCatalog.custom(files.map((f) => parseAlertWindows(readFileSync(f, "utf8"), f)));
}

interface Plan {
  /** Output name without extension, relative to --out. */
  name: string;
  slos: Slo[];
}

function run(args: string[]): Promise<number> {
  return generate(parse(args));
}

function parse(args: string[]) {
  return parseFlags({
    args,
    allowPositionals: true,
    options: {
      input: { type: "string", short: "i" },
      out: { type: "string", short: "o" },
      "default-slo-period": { type: "string", default: "30d" },
      "extra-labels": { type: "string", short: "l", multiple: true },
      "slo-period-windows-path": { type: "string", short: "w" },
      "disable-recordings": { type: "boolean", default: false },
      "disable-alerts": { type: "boolean", default: false },
      "disable-optimized-rules": { type: "boolean", default: false },
      "min-events": { type: "string" },
      "alert-annotation": { type: "string", multiple: true },
      "no-tests": { type: "boolean", default: false },
      docs: { type: "boolean", default: false },
    },
  });
}

async function generate({ values, positionals }: ReturnType<typeof parse>): Promise<number> {
  const input = values.input ?? positionals[0];
  if (!input) throw new UsageError("a spec file or directory is required");
  if (positionals.length > (values.input ? 0 : 1))
    throw new UsageError(`unexpected argument ${JSON.stringify(positionals.at(-1))}`);
  const period = values["default-slo-period"]!;
  if (parseDuration(period) === undefined) {
    throw new UsageError(
      `--default-slo-period must be a duration such as 30d or 28d, got ${JSON.stringify(period)}`,
    );
  }
  let minEvents: number | undefined;
  if (values["min-events"] !== undefined) {
    minEvents = Number(values["min-events"]);
    if (!Number.isInteger(minEvents) || minEvents < 0)
      throw new UsageError("--min-events takes a whole number >= 0");
  }
  const opts: GenerateOptions = {
    extraLabels: keyValues(values["extra-labels"], "--extra-labels"),
    annotations: keyValues(values["alert-annotation"], "--alert-annotation"),
    disableRecordings: values["disable-recordings"],
    disableAlerts: values["disable-alerts"],
    optimized: !values["disable-optimized-rules"],
    minEvents,
    version: "slo-scout",
  };

  let files: string[];
  try {
    files = specFiles(input);
  } catch {
    process.stderr.write(`slo-scout generate: cannot read ${input}\n`);
    return 1;
  }
  try {
    if (values["slo-period-windows-path"]) opts.catalog = loadCatalog(values["slo-period-windows-path"]);
  } catch (err) {
    process.stderr.write(`slo-scout generate: ${(err as Error).message}\n`);
    return 1;
  }

  // Like Sloth's -o: a .yml/.yaml path (not an existing directory) is the rules file itself, "-" is stdout.
  const out = values.out === "-" ? undefined : values.out;
  const outFile =
    out !== undefined && /\.ya?ml$/i.test(out) && !(existsSync(out) && statSync(out).isDirectory());
  if (values.docs && (out === undefined || outFile))
    throw new UsageError("--docs writes several files: give --out a directory");
  if (outFile && files.length > 1)
    throw new UsageError("--out FILE takes a single spec file; give a directory for several");

  const issues: SpecIssue[] = [];
  const plans: Plan[] = [];
  const isDir = statSync(input).isDirectory();
  for (const f of files) {
    const res = loadSpecs(readFileSync(f, "utf8"), f, { defaultPeriod: period });
    issues.push(...res.issues);
    const rel = isDir ? relative(input, f) : basename(f);
    plans.push({ name: join(dirname(rel), basename(rel, extname(rel))), slos: res.slos });
  }
  if (issues.length > 0) {
    for (const i of issues) process.stderr.write(`${formatIssue(i)}\n`);
    process.stderr.write(`slo-scout generate: ${issues.length} problem(s) in the spec; nothing generated\n`);
    return 1;
  }

  const staging = mkdtempSync(join(tmpdir(), "slo-scout-gen-"));
  try {
    const written: string[] = [];
    const notes: string[] = [];
    const seen: Slo[] = [];
    let stdout = "";
    for (const plan of plans) {
      if (plan.slos.length === 0) continue;
      seen.push(...plan.slos);
      assertUniqueSlos(seen);
      const fileNames = outFile
        ? { rulesPath: basename(out), testsPath: basename(out).replace(/\.ya?ml$/i, ".test.yml") }
        : {};
      const built = buildRuleArtifacts(plan.slos, plan.name, {
        ...opts,
        ...fileNames,
        tests: !values["no-tests"],
      });
      notes.push(...built.notes);
      const docs = values.docs ? buildDocArtifacts(built.rules) : [];
      for (const a of [...built.artifacts, ...docs]) {
        const target = join(staging, a.path);
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target, a.content);
        written.push(a.path);
        if (a.kind === "recording-rules") stdout += `${stdout ? "---\n" : ""}${a.content}`;
      }
    }
    if (written.length === 0) {
      process.stderr.write("slo-scout generate: no SLOs found in the input\n");
      return 1;
    }
    const report = await validateFiles(written.map((w) => readArtifact(join(staging, w), staging)));
    for (const n of [...notes, ...report.notes]) process.stderr.write(`note: ${n}\n`);
    if (!report.ok) {
      for (const m of report.messages) process.stderr.write(`${m}\n`);
      process.stderr.write("slo-scout generate: validation failed; nothing written\n");
      return 1;
    }
    if (out === undefined) {
      process.stdout.write(stdout);
      return 0;
    }
    const outDir = outFile ? dirname(out) : out;
    for (const w of written) {
      const target = join(outDir, w);
      mkdirSync(dirname(target), { recursive: true });
      renameOrCopy(join(staging, w), target);
    }
    process.stderr.write(`wrote ${written.map((w) => join(outDir, w)).join(", ")}\n`);
    return 0;
  } catch (err) {
    if (
      err instanceof DuplicateSloError ||
      err instanceof LowTrafficGuardError ||
      err instanceof WindowsError
    ) {
      process.stderr.write(`slo-scout generate: ${err.message}\n`);
      return 1;
    }
    throw err;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

function renameOrCopy(from: string, to: string) {
  try {
    renameSync(from, to);
  } catch {
    writeFileSync(to, readFileSync(from));
  }
}

export const command: Command = {
  usage,
  run,
};
