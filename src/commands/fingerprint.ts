import { readFileSync } from "node:fs";
import { loadConfig } from "../config.js";
import { fingerprintBatch, type ParsedLine } from "../pipeline/fingerprint/batch.js";
import { csvRow } from "../pipeline/fingerprint/csv.js";
import { createRedactor } from "../pipeline/redact.js";
import { type Command, parseFlags, UsageError } from "./command.js";

const usage = `Usage: slo-scout fingerprint <file|-> [--raw] [--out csv|jsonl] [--service NAME]

Reads one message a line (or a whole log line with --raw) and prints, per input line in order,
its fingerprint and template. Messages are redacted (emails, IPs, cards, secrets, phones and
REDACT_EXTRA_PATTERNS) before mining, so no template carries PII.

  <file|->         input file, or - for standard input
  --raw            each line is a whole log line: strip the header (timestamp, level, pid,
                   host, component) by general rules first
  --out csv        RFC-4180 CSV with header LineId,EventId,EventTemplate (default)
  --out jsonl      one JSON object a line: lineId, fingerprint, template, message (redacted)
  --service NAME   service the fingerprints belong to (part of the hash; default "default")

EventId is sha256(service + "\\n" + normalized template); EventTemplate uses <*> for variables.`;

function readInput(path: string): string {
  if (path === "-") return readFileSync(0, "utf8");
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new Error(e.code === "ENOENT" ? `no such file: ${path}` : `cannot read ${path}: ${e.message}`);
  }
}

/** Splits input into lines; a final line break does not make an extra empty line. */
export function splitLines(text: string): string[] {
  if (text.length === 0) return [];
  const lines = text.split(/\r?\n/);
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

export function formatResults(results: readonly ParsedLine[], out: "csv" | "jsonl"): string {
  const rows: string[] = [];
  if (out === "csv") rows.push("LineId,EventId,EventTemplate");
  results.forEach((r, i) => {
    rows.push(
      out === "csv"
        ? csvRow([i + 1, r.fingerprint, r.template])
        : JSON.stringify({
            lineId: i + 1,
            fingerprint: r.fingerprint,
            template: r.template,
            message: r.message,
          }),
    );
  });
  return rows.length ? `${rows.join("\n")}\n` : "";
}

function parse(args: string[]) {
  return parseFlags({
    args,
    allowPositionals: true,
    options: { raw: { type: "boolean" }, out: { type: "string" }, service: { type: "string" } },
  });
}

export const command: Command = {
  usage,
  async run(args) {
    const { values, positionals } = parse(args);
    if (positionals.length !== 1) throw new UsageError("expected exactly one input: a file or - for stdin");
    const out = values.out ?? "csv";
    if (out !== "csv" && out !== "jsonl") throw new UsageError(`--out must be csv or jsonl (got "${out}")`);
    const service = values.service ?? "default";
    if (service.length === 0) throw new UsageError("--service must not be empty");
    const config = loadConfig();
    const redactor = createRedactor({ extraPatterns: config.REDACT_EXTRA_PATTERNS });
    const lines = splitLines(readInput(positionals[0]!));
    const results = fingerprintBatch(lines, { raw: values.raw === true, service, redactor });
    process.stdout.write(formatResults(results, out));
    return 0;
  },
};
