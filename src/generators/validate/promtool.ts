import { execFile } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

/** Prometheus' own checker: `promtool check rules` and `promtool test rules`. */

export interface ToolResult {
  ok: boolean;
  /** Per failing file, promtool's own output (test rules only). */
  failures?: { file: string; output: string }[];
  /** One line per problem, `file:line: message` where promtool names a position. */
  messages: string[];
  output: string;
}

/** `PROMTOOL` if set, else `promtool` on PATH; undefined when it is not installed. */
export function findPromtool(): string | undefined {
  const explicit = process.env.PROMTOOL;
  if (explicit) return explicit;
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, "promtool");
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

function run(bin: string, args: string[], cwd?: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(bin, args, { cwd, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

/** promtool prints `file: line:col: message`; turn that into `file:line: message`. */
function positioned(output: string): string[] {
  const out: string[] = [];
  for (const raw of output.split("\n")) {
    const line = raw.trim();
    const m = /^(.+?): (\d+):(\d+): (.*)$/.exec(line);
    if (m) out.push(`${m[1]}:${m[2]}: ${m[4]}`);
    else if (/^(\S+\.ya?ml): (.*)$/.test(line) || /error|invalid|could not/i.test(line)) out.push(line);
  }
  return out;
}

export async function checkRules(files: string[], bin = findPromtool()): Promise<ToolResult> {
  if (!bin) throw new Error("promtool is not installed");
  if (files.length === 0) return { ok: true, messages: [], output: "" };
  const { code, output } = await run(bin, ["check", "rules", ...files]);
  return { ok: code === 0, messages: code === 0 ? [] : positioned(output), output };
}

/**
 * Runs rule unit tests. promtool resolves `rule_files` against the working directory, so each test runs
 * from its own directory with a relative path.
 */
export async function testRules(files: string[], bin = findPromtool()): Promise<ToolResult> {
  if (!bin) throw new Error("promtool is not installed");
  const messages: string[] = [];
  const failures: { file: string; output: string }[] = [];
  let output = "";
  let ok = true;
  for (const file of files) {
    const res = await run(bin, ["test", "rules", file]);
    output += res.output;
    if (res.code !== 0) {
      ok = false;
      const detail = res.output
        .split("\n")
        .map((l) => l.trimEnd())
        .filter((l) => l.trim() !== "" && !/^Unit Testing:/.test(l.trim()));
      messages.push(`${file}: promtool test rules failed:\n${detail.join("\n")}`);
      failures.push({ file, output: res.output });
    }
  }
  return { ok, messages, output, failures };
}
