import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { main } from "../../src/cli.js";
import { findPromtool } from "../../src/generators/validate/promtool.js";

export const ROOT = resolve(import.meta.dirname, "../..");
export const FIXTURES = join(ROOT, "test/fixtures/generators");
export const SPECS = join(FIXTURES, "specs");

const inCi = () => process.env.CI === "true";

function skipOrFail(what: string, reason: string): undefined {
  if (inCi()) throw new Error(`${what} is required when CI=true: ${reason}`);
  process.stderr.write(`[skip] ${what}: ${reason}\n`);
  return undefined;
}

/** promtool's path; undefined (with a one-line reason) when missing locally; a failure in CI. */
export function promtool(): string | undefined {
  return findPromtool() ?? skipOrFail("promtool", "not installed (apt-get install prometheus)");
}

/** The Sloth corpus and python3 for rules-equivalent.py, or undefined with the reason. */
export function slothCorpus(): { dir: string; tool: string } | undefined {
  const dir = process.env.SLOTH_CORPUS_DIR ?? resolve(ROOT, "../shared/corpora/sloth");
  const tool = resolve(ROOT, "../shared/tools/rules-equivalent.py");
  if (!existsSync(dir)) return skipOrFail("Sloth corpus", `${dir} is absent (set SLOTH_CORPUS_DIR)`);
  if (!existsSync(tool)) return skipOrFail("rules-equivalent.py", `${tool} is absent`);
  try {
    execFileSync("python3", ["-c", "import yaml"], { stdio: "ignore" });
  } catch {
    return skipOrFail("python3 with PyYAML", "not available");
  }
  return { dir, tool };
}

/** Runs the CLI in-process and captures what it prints. */
export async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  }) as typeof process.stderr.write;
  try {
    const code = await main(args);
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}
