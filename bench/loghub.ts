/**
 * Accuracy on the labelled Loghub-2k systems: feeds each system's `Content` column (then its raw `.log`
 * lines with `--raw`) to `slo-scout fingerprint`, as a user would, and scores the output with the
 * benchmark's GA / FGA / PA definitions against the corrected labels. The corpus is not part of the
 * project: it is looked up at ../shared/corpora/loghub (or LOGHUB_DIR) and the run is skipped without it.
 *
 *   npm run bench:loghub              # spawns the CLI once per system and table
 *   npm run bench:loghub -- --inline  # calls the CLI's function in-process (faster, same code path)
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type Accuracy, accuracy } from "../src/pipeline/fingerprint/accuracy.js";
import { fingerprintBatch } from "../src/pipeline/fingerprint/batch.js";
import { parseCsv, parseCsvRecords } from "../src/pipeline/fingerprint/csv.js";
import { createRedactor } from "../src/pipeline/redact.js";

export const SYSTEMS = ["HDFS", "Apache", "BGL", "HPC", "Linux", "OpenSSH", "Proxifier", "Zookeeper"];

const root = resolve(import.meta.dirname, "..");

export function loghubDir(): string {
  return process.env.LOGHUB_DIR ?? resolve(root, "..", "shared", "corpora", "loghub");
}

export interface SystemData {
  system: string;
  contents: string[];
  rawLines: string[];
  truth: string[];
}

export function loadSystem(system: string, dir = loghubDir()): SystemData {
  const rows = parseCsvRecords(
    readFileSync(join(dir, system, `${system}_2k.log_structured_corrected.csv`), "utf8"),
  );
  const raw = readFileSync(join(dir, system, `${system}_2k.log`), "utf8").split("\n");
  return {
    system,
    contents: rows.map((r) => r.Content!),
    truth: rows.map((r) => r.EventTemplate!),
    rawLines: raw.slice(0, rows.length),
  };
}

export interface Prediction {
  ids: string[];
  templates: string[];
}

/** The CLI's own function, with the CLI's defaults (redaction on). */
export function predictInline(lines: readonly string[], raw: boolean, service: string): Prediction {
  const out = fingerprintBatch(lines, { raw, service, redactor: createRedactor() });
  return { ids: out.map((r) => r.fingerprint), templates: out.map((r) => r.template) };
}

/** Runs `slo-scout fingerprint` on the lines and reads its CSV. */
export function predictWithCli(lines: readonly string[], raw: boolean, service: string): Prediction {
  const dir = mkdtempSync(join(tmpdir(), "loghub-"));
  try {
    const input = join(dir, "input.log");
    writeFileSync(input, `${lines.join("\n")}\n`);
    const args = [join(root, "bin", "slo-scout.js"), "fingerprint", input, "--service", service];
    if (raw) args.push("--raw");
    const csv = execFileSync(process.execPath, args, { encoding: "utf8", maxBuffer: 1 << 28 });
    const [header, ...rows] = parseCsv(csv);
    if (header?.join(",") !== "LineId,EventId,EventTemplate")
      throw new Error(`unexpected CLI header: ${header}`);
    if (rows.length !== lines.length)
      throw new Error(`CLI printed ${rows.length} rows for ${lines.length} lines`);
    return { ids: rows.map((r) => r[1]!), templates: rows.map((r) => r[2]!) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function score(data: SystemData, raw: boolean, predict = predictInline): Accuracy {
  const p = predict(raw ? data.rawLines : data.contents, raw, data.system);
  return accuracy(data.truth, p.ids, p.templates);
}

function table(title: string, rows: [string, Accuracy][]): string {
  const f = (x: number) => x.toFixed(3);
  const lines = [title, "| System | GA | FGA | PA | templates found / expected |", "|---|---|---|---|---|"];
  for (const [s, a] of rows) {
    lines.push(`| ${s} | ${f(a.ga)} | ${f(a.fga)} | ${f(a.pa)} | ${a.predictedGroups} / ${a.truthGroups} |`);
  }
  const mean = (k: "ga" | "fga" | "pa") => rows.reduce((t, [, a]) => t + a[k], 0) / rows.length;
  lines.push(`| **mean** | **${f(mean("ga"))}** | **${f(mean("fga"))}** | **${f(mean("pa"))}** | |`);
  return lines.join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = loghubDir();
  if (!existsSync(join(dir, "HDFS"))) {
    console.log(`skipped: the Loghub corpus is not at ${dir} (set LOGHUB_DIR to its folder)`);
    process.exit(0);
  }
  const inline = process.argv.includes("--inline");
  const predict = inline ? predictInline : predictWithCli;
  const started = Date.now();
  const data = SYSTEMS.map((s) => loadSystem(s, dir));
  const content = data.map((d) => [d.system, score(d, false, predict)] as [string, Accuracy]);
  const raw = data.map((d) => [d.system, score(d, true, predict)] as [string, Accuracy]);
  console.log(table("Loghub-2k, Content column (`slo-scout fingerprint`)", content));
  console.log();
  console.log(table("Loghub-2k, raw lines (`slo-scout fingerprint --raw`)", raw));
  console.log(
    `\n${inline ? "in-process" : "CLI spawned per system and table"}; ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
}
