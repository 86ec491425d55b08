import { execFile } from "node:child_process";

/**
 * Runs the `git` binary (no shell, arguments as an array) in a repository directory. The environment is
 * the process's minus every inherited `GIT_*` variable, so a `GIT_DIR` or `GIT_INDEX_FILE` set around
 * SLO-Scout (a git hook, a CI step) cannot redirect it to another repository or index; the caller adds the
 * ones it means.
 */

export class GitCommandError extends Error {
  override name = "GitCommandError";
  constructor(
    readonly args: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(`git ${args.join(" ")} failed (exit ${exitCode}): ${stderr.trim() || "no message"}`);
  }
}

export interface GitOptions {
  /** Written to git's standard input. */
  input?: string | Buffer;
  env?: Record<string, string>;
}

const MAX_OUTPUT = 64 * 1024 * 1024;

/** Standard output of a git command that must succeed; throws a GitCommandError otherwise. */
export async function git(dir: string, args: string[], options: GitOptions = {}): Promise<Buffer> {
  const run = await tryGit(dir, args, options);
  if (run.exitCode !== 0) throw new GitCommandError(args, run.exitCode, run.stderr);
  return run.stdout;
}

/** A git command whose failure is an answer (`rev-parse --verify` of a missing ref), not an error. */
export function tryGit(
  dir: string,
  args: string[],
  options: GitOptions = {},
): Promise<{ exitCode: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      "git",
      args,
      { cwd: dir, env: gitEnv(options.env), encoding: "buffer", maxBuffer: MAX_OUTPUT, windowsHide: true },
      (err, stdout, stderr) => {
        // A non-zero exit is an answer; failing to start git at all (ENOENT) is not.
        if (err && typeof err.code !== "number") {
          reject(new Error(`cannot run git: ${err.message}`));
          return;
        }
        resolve({ exitCode: err ? Number(err.code) : 0, stdout, stderr: stderr.toString("utf8") });
      },
    );
    // git may exit before reading its input; its exit status then says what went wrong, not the EPIPE.
    child.stdin?.on("error", () => {});
    child.stdin?.end(options.input ?? "");
  });
}

function gitEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("GIT_")) env[k] = v;
  return { ...env, GIT_TERMINAL_PROMPT: "0", LC_ALL: "C", ...extra };
}
