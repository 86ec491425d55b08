import { once } from "node:events";
import { createWriteStream, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { loadConfig } from "../config.js";
import type { ParsedLine } from "../pipeline/fingerprint/batch.js";
import { csvRow } from "../pipeline/fingerprint/csv.js";
import { fingerprintFile, SPOOL_CHUNK } from "../pipeline/fingerprint/stream.js";
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

EventId is sha256(service + "\\n" + normalized template); EventTemplate uses <*> for variables.
The input is read twice through a scratch file in the temporary directory (standard input is copied
there first), so memory follows the number of templates, not the size of the input.`;

/** Copies standard input to a file, so the two passes can read it twice. */
async function saveStdin(path: string): Promise<void> {
  await pipeline(process.stdin, createWriteStream(path));
}

/** Writes chunks to stdout, waiting when the reader is slower, so output never piles up in memory. */
async function writeAll(chunks: Iterable<string>): Promise<void> {
  for (const chunk of chunks) if (!process.stdout.write(chunk)) await once(process.stdout, "drain");
}

/**
 * The output, a CSV header (csv) and one row per result, in chunks of whole rows of about the spool's
 * size: each row is added to its chunk where it is made rather than handed over on its own.
 */
export function* resultChunks(results: Iterable<ParsedLine>, out: "csv" | "jsonl"): Generator<string> {
  let chunk = out === "csv" ? "LineId,EventId,EventTemplate\n" : "";
  // A template's CSV fields are the same on every line it has: escaped once.
  const csvTail = new Map<string, string>();
  let i = 0;
  for (const r of results) {
    i++;
    if (out === "jsonl") {
      chunk += `${JSON.stringify({ lineId: i, fingerprint: r.fingerprint, template: r.template, message: r.message })}\n`;
    } else {
      let tail = csvTail.get(r.template);
      if (tail === undefined) {
        tail = `,${csvRow([r.fingerprint, r.template])}\n`;
        csvTail.set(r.template, tail);
      }
      chunk += i + tail;
    }
    if (chunk.length >= SPOOL_CHUNK) {
      yield chunk;
      chunk = "";
    }
  }
  if (chunk) yield chunk;
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
    const input = positionals[0]!;
    if (input !== "-" && !existsSync(input)) throw new Error(`no such file: ${input}`);
    const scratch = mkdtempSync(join(tmpdir(), "slo-scout-fingerprint-"));
    try {
      const file = input === "-" ? join(scratch, "stdin") : input;
      if (input === "-") await saveStdin(file);
      const results = fingerprintFile(file, join(scratch, "spool"), {
        raw: values.raw === true,
        service,
        redactor,
        withMessage: out === "jsonl",
      });
      await writeAll(resultChunks(results, out));
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code && e.path === input) throw new Error(`cannot read ${input}: ${e.message}`);
      throw err;
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
    return 0;
  },
};
