import picomatch from "picomatch";
import { type ChangeFile, GitHostError } from "../ports.js";

/**
 * The paths a git host may read and write, checked the same way for every host before anything reaches
 * git or an API: repository-relative, `/`-separated, plain characters only, no `.`/`..` segment and no
 * `.git` directory (nor its 8.3 short name `git~1`, which some filesystems map to it). Artifact names are
 * generated, so the narrow character set costs nothing and keeps quoting out of every git command.
 */

const SEGMENT = /^[A-Za-z0-9._@+=,~-]+$/;
const GIT_DIR = /^(?:\.git|git~\d+)$/i;
const MAX_PATH_LENGTH = 1024;

/** Throws a `bad-path` GitHostError unless `path` is a safe repository-relative file path. */
export function checkRepoPath(path: string): void {
  const segments = path.split("/");
  const bad =
    path.length === 0 ||
    path.length > MAX_PATH_LENGTH ||
    segments.some((s) => !SEGMENT.test(s) || s === "." || s === ".." || GIT_DIR.test(s));
  if (bad)
    throw new GitHostError("bad-path", `${JSON.stringify(path)} is not a safe repository-relative path`);
}

/** Checks every file of a change: a safe path, inside `allowedPaths`, each path once. */
export function checkChangeFiles(files: ChangeFile[], allowedPaths: string[]): void {
  if (files.length === 0) throw new GitHostError("bad-request", "a change needs at least one file");
  if (allowedPaths.length === 0) throw new GitHostError("bad-path", "no allowed paths were given");
  const allowed = picomatch(allowedPaths, { dot: true });
  const seen = new Set<string>();
  for (const { path } of files) {
    checkRepoPath(path);
    if (!allowed(path)) {
      throw new GitHostError("bad-path", `${path} is outside the allowed paths (${allowedPaths.join(", ")})`);
    }
    if (seen.has(path)) throw new GitHostError("bad-request", `${path} is given twice`);
    seen.add(path);
  }
}

/** A service as one component of a branch name (git check-ref-format's rules for these characters). */
const SERVICE = /^(?!.*\.\.)[A-Za-z0-9][A-Za-z0-9._-]{0,62}(?<!\.|\.lock)$/;
const MAX_TITLE = 256;

/** Throws a `bad-request` GitHostError unless `service` can be the last component of a branch name. */
export function checkService(service: string): void {
  if (!SERVICE.test(service))
    throw new GitHostError("bad-request", `${JSON.stringify(service)} cannot name a branch`);
}

/** A change's title is one line, as every host shows it. */
export function checkTitle(title: string): void {
  if (title.trim() === "" || title.length > MAX_TITLE || /[\r\n]/.test(title)) {
    throw new GitHostError("bad-request", `a change title is one line of 1 to ${MAX_TITLE} characters`);
  }
}

/** Bodies and comments are refused over the host's limit rather than cut by it. */
export function checkBody(body: string, what: "body" | "comment", max: number): void {
  if (body.length > max) {
    throw new GitHostError(
      "bad-request",
      `a ${what} is at most ${max} characters; this one has ${body.length}`,
    );
  }
}
