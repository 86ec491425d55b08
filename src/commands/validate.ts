import { existsSync } from "node:fs";
import { validatePath } from "../generators/validate/index.js";
import { type Command, parseFlags, UsageError } from "./command.js";

const usage = `Usage: slo-scout validate <dir | file> [options]

Validates every artifact under the directory: SLO specs (Sloth, OpenSLO), Prometheus rule files (YAML
round-trip, PromQL parse, promtool check rules) and rule unit tests (promtool test rules). Prints one
file:line message per problem and exits non-zero on any failure.

Options:
      --require-promtool   fail when promtool is not installed instead of skipping its checks
  -q, --quiet              print only problems
`;

async function run(args: string[]): Promise<number> {
  const { values, positionals } = parse(args);
  if (positionals.length !== 1) throw new UsageError("give exactly one directory or file to validate");
  const target = positionals[0]!;
  if (!existsSync(target)) {
    process.stderr.write(`slo-scout validate: ${target} does not exist\n`);
    return 1;
  }
  const report = await validatePath(target);
  for (const m of report.messages) process.stderr.write(`${m}\n`);
  for (const n of report.notes) process.stderr.write(`note: ${n}\n`);
  const missingPromtool = report.notes.some((n) => n.startsWith("promtool not found"));
  if (missingPromtool && values["require-promtool"]) {
    process.stderr.write("slo-scout validate: promtool is required (--require-promtool) but not installed\n");
    return 1;
  }
  const counts = Object.entries(report.checked)
    .map(([kind, files]) => `${files.length} ${kind}`)
    .join(", ");
  if (!values.quiet) {
    process.stdout.write(`${report.ok ? "ok" : "FAILED"}: checked ${counts || "no artifacts"}\n`);
  }
  if (Object.keys(report.checked).length === 0) {
    process.stderr.write(`slo-scout validate: no artifacts found under ${target}\n`);
    return 1;
  }
  return report.ok ? 0 : 1;
}

function parse(args: string[]) {
  return parseFlags({
    args,
    allowPositionals: true,
    options: {
      "require-promtool": { type: "boolean", default: false },
      quiet: { type: "boolean", short: "q", default: false },
    },
  });
}

export const command: Command = {
  usage,
  run,
};
