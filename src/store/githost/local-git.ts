import { randomUUID } from "node:crypto";
import { mkdir, realpath, rm } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import {
  type Change,
  type ChangeFile,
  type GitHost,
  GitHostError,
  type OpenChangeRequest,
  type UpdateChangeRequest,
} from "../ports.js";
import { checkBody, checkChangeFiles, checkRepoPath, checkService, checkTitle } from "./change-paths.js";
import { GitCommandError, git, tryGit } from "./git.js";
import { type ChangeRecord, LocalChanges } from "./local-changes.js";

/**
 * The embedded git host: a local repository standing in for GitHub or GitLab. A change is a branch
 * `slo-scout/<service>` whose commit holds every file, with its description and comments kept beside it
 * (see local-changes.ts). Commits are made with plumbing — objects hashed into the repository, a tree built
 * in a throwaway index (`GIT_INDEX_FILE`), `commit-tree`, then `update-ref` — so nothing is ever checked
 * out: the working tree, index and HEAD of whoever uses the repository stay as they were. A change is open
 * while its branch exists; deleting the branch (after merging it, say) closes it.
 */

export interface LocalGitHostOptions {
  /** The repository; created with an empty first commit on `defaultBranch` when it does not exist. */
  dir: string;
  /** Where changes start when the request names no base; default `main`. */
  defaultBranch?: string;
  /** Author and committer of every commit; default SLO-Scout <slo-scout@localhost>. */
  author?: { name: string; email: string };
}

const BRANCH_PREFIX = "slo-scout/";
/** GitHub's limit on a pull request body and a comment; kept here so a local run catches what it refuses. */
const MAX_BODY = 65_536;
/** Branch names, tags and commit ids; nothing that git could read as an option or a revision range. */
const REF = /^(?!.*\.\.)[A-Za-z0-9_][A-Za-z0-9._/-]{0,254}$/;

interface Repo {
  dir: string;
  changes: LocalChanges;
  /** Where throwaway index files go: inside the git directory, so they share its filesystem and owner. */
  scratch: string;
}

export function localGitHost(options: LocalGitHostOptions): GitHost {
  const dir = resolve(options.dir);
  const defaultBranch = options.defaultBranch ?? "main";
  const author = options.author ?? { name: "SLO-Scout", email: "slo-scout@localhost" };
  const authorEnv = {
    GIT_AUTHOR_NAME: author.name,
    GIT_AUTHOR_EMAIL: author.email,
    GIT_COMMITTER_NAME: author.name,
    GIT_COMMITTER_EMAIL: author.email,
  };

  let opened: Promise<Repo> | undefined;
  const repo = () => {
    if (!opened) {
      opened = openRepo(dir, defaultBranch, authorEnv);
      // A failed open (git missing, a permission error) is retried by the next call instead of sticking.
      opened.catch(() => {
        opened = undefined;
      });
    }
    return opened;
  };

  // Writes run one at a time, so two approvals of one service in this process cannot race for a branch
  // name; other processes are kept out by update-ref's compare-and-swap.
  let queue: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = queue.then(fn, fn);
    queue = run.catch(() => {});
    return run;
  };

  async function commitFiles(r: Repo, parent: string, files: ChangeFile[], message: string) {
    const index = join(r.scratch, `index-${randomUUID()}`);
    const env = { GIT_INDEX_FILE: index };
    let tree: string;
    try {
      await git(r.dir, ["read-tree", parent], { env });
      const entries: string[] = [];
      for (const f of files) {
        const blob = text(await git(r.dir, ["hash-object", "-w", "--stdin"], { input: f.content }));
        entries.push(`100644 ${blob}\t${f.path}\n`);
      }
      await git(r.dir, ["update-index", "--add", "--index-info"], { env, input: entries.join("") });
      tree = text(await git(r.dir, ["write-tree"], { env }));
    } finally {
      await rm(index, { force: true });
    }
    if (tree === (await resolveCommit(r.dir, `${parent}^{tree}`))) return undefined;
    const args = ["commit-tree", tree, "-p", parent, "--no-gpg-sign", "-F", "-"];
    return text(await git(r.dir, args, { input: `${message}\n`, env: authorEnv }));
  }

  async function toChange(r: Repo, record: ChangeRecord, body: string): Promise<Change | undefined> {
    const head = await resolveCommit(r.dir, `refs/heads/${record.branch}`);
    if (!head) return undefined;
    return {
      id: record.id,
      branch: record.branch,
      url: `${pathToFileURL(r.dir).href}#${record.branch}`,
      commit: head,
      files: await changedFiles(r.dir, record.baseCommit, head),
      title: record.title,
      body,
    };
  }

  async function openChanges(r: Repo, service: string): Promise<ChangeRecord[]> {
    const records = (await r.changes.list()).filter((c) => c.service === service);
    const open: ChangeRecord[] = [];
    for (const c of records) if (await resolveCommit(r.dir, `refs/heads/${c.branch}`)) open.push(c);
    return open;
  }

  async function getChange(changeId: string): Promise<Change | undefined> {
    const r = await repo();
    const found = await r.changes.read(changeId);
    return found ? toChange(r, found.record, found.body) : undefined;
  }

  async function update(r: Repo, changeId: string, req: UpdateChangeRequest): Promise<Change> {
    checkChangeFiles(req.files, req.allowedPaths);
    if (req.title !== undefined) checkTitle(req.title);
    if (req.body !== undefined) checkBody(req.body, "body", MAX_BODY);
    const found = await r.changes.read(changeId);
    const ref = found ? `refs/heads/${found.record.branch}` : undefined;
    const head = ref ? await resolveCommit(r.dir, ref) : undefined;
    if (!found || !ref || !head) throw new GitHostError("unknown-change", `no open change ${changeId}`);
    await refuseCheckedOut(r.dir, ref);
    const { record } = found;
    const message = req.message ?? `Update: ${req.title ?? record.title}`;
    const commit = await commitFiles(r, head, req.files, message);
    if (commit) await git(r.dir, ["update-ref", "-m", message, ref, commit, head]);
    const updated = { ...record, title: req.title ?? record.title, updatedAt: new Date().toISOString() };
    const body = req.body ?? found.body;
    await r.changes.write(updated, body);
    return (await toChange(r, updated, body))!;
  }

  return {
    async readFile(path, ref) {
      checkRepoPath(path);
      const r = await repo();
      const commit = await resolveRef(r.dir, ref ?? defaultBranch);
      const entry = text(await git(r.dir, ["ls-tree", "--full-tree", commit, "--", path]));
      // Regular files only: a directory or a symlink (whose blob is its target) is not a file to read.
      const m = /^100(?:644|755) blob ([0-9a-f]+)\t/.exec(entry);
      if (!m) return undefined;
      return (await git(r.dir, ["cat-file", "blob", m[1]!])).toString("utf8");
    },

    openChange(req: OpenChangeRequest) {
      return exclusive(async () => {
        checkService(req.service);
        checkTitle(req.title);
        checkBody(req.body, "body", MAX_BODY);
        checkChangeFiles(req.files, req.allowedPaths);
        const r = await repo();
        if (req.update) {
          const current = (await openChanges(r, req.service)).at(-1);
          if (current) {
            const { title, body, files, allowedPaths } = req;
            return update(r, current.id, { title, body, files, allowedPaths });
          }
        }
        const base = await resolveRef(r.dir, req.baseRef ?? defaultBranch);
        const commit = await commitFiles(r, base, req.files, req.title);
        if (!commit) {
          throw new GitHostError(
            "no-changes",
            `the files are already like this at ${req.baseRef ?? defaultBranch}`,
          );
        }
        const branch = await createBranch(r.dir, req.service, commit, req.title);
        const now = new Date().toISOString();
        const record = await r.changes.create(
          {
            service: req.service,
            branch,
            baseCommit: base,
            title: req.title,
            createdAt: now,
            updatedAt: now,
          },
          req.body,
        );
        return (await toChange(r, record, req.body))!;
      });
    },

    updateChange(changeId, req) {
      return exclusive(async () => update(await repo(), changeId, req));
    },

    getChange,

    async listChangeFiles(changeId) {
      const change = await getChange(changeId);
      if (!change) throw new GitHostError("unknown-change", `no open change ${changeId}`);
      return change.files;
    },

    async postComment(changeId, body) {
      checkBody(body, "comment", MAX_BODY);
      return (await repo()).changes.addComment(changeId, body);
    },

    async editComment(commentId, body) {
      checkBody(body, "comment", MAX_BODY);
      await (await repo()).changes.editComment(commentId, body);
    },

    async close() {
      await queue;
    },
  };
}

/** Opens the repository at `dir`, creating it (and its first commit) when there is none. */
async function openRepo(
  dir: string,
  defaultBranch: string,
  authorEnv: Record<string, string>,
): Promise<Repo> {
  await mkdir(dir, { recursive: true });
  const real = await realpath(dir);
  // Only `dir` itself may be the repository: without a ceiling, git would find an enclosing repository
  // (the project's own checkout, when the default ./slo-scout-repo does not exist yet) and write there.
  const isRepo = (await tryGit(real, ["rev-parse", "--git-dir"], { env: ceiling(real) })).exitCode === 0;
  if (!isRepo) {
    await git(real, ["init", "--quiet"]);
    await git(real, ["symbolic-ref", "HEAD", `refs/heads/${defaultBranch}`]);
  }
  const hasCommits = text(
    await git(real, ["for-each-ref", "--count=1", "--format=%(refname)", "refs/heads"]),
  );
  if (!hasCommits) {
    const tree = text(await git(real, ["mktree"], { input: "" }));
    const args = ["commit-tree", tree, "--no-gpg-sign", "-m", "Initial commit"];
    const commit = text(await git(real, args, { env: authorEnv }));
    await git(real, ["update-ref", `refs/heads/${defaultBranch}`, commit, ""]);
  }
  const gitDir = text(await git(real, ["rev-parse", "--absolute-git-dir"]));
  const scratch = join(gitDir, "slo-scout", "tmp");
  await mkdir(scratch, { recursive: true });
  return { dir: real, changes: new LocalChanges(gitDir), scratch };
}

/**
 * Creates the change's branch at `commit`: `slo-scout/<service>`, or the first free `-2`, `-3`, … name.
 * Creation fails when the name exists (update-ref's empty old value), so a branch made meanwhile by
 * another process is skipped, never overwritten.
 */
async function createBranch(dir: string, service: string, commit: string, message: string): Promise<string> {
  for (let n = 1; n <= 100; n++) {
    const branch = `${BRANCH_PREFIX}${service}${n === 1 ? "" : `-${n}`}`;
    const ref = `refs/heads/${branch}`;
    if (await resolveCommit(dir, ref)) continue;
    const args = ["update-ref", "-m", message, ref, commit, ""];
    const created = await tryGit(dir, args);
    if (created.exitCode === 0) return branch;
    // Taken meanwhile: try the next name. Anything else is a real failure.
    if (!(await resolveCommit(dir, ref))) throw new GitCommandError(args, created.exitCode, created.stderr);
  }
  throw new GitHostError("bad-request", `no free branch name for ${service} (100 are taken)`);
}

/** Refuses to move a branch that a working tree has checked out: its files would change underfoot. */
async function refuseCheckedOut(dir: string, ref: string): Promise<void> {
  const worktrees = text(await git(dir, ["worktree", "list", "--porcelain"]));
  if (worktrees.split("\n").includes(`branch ${ref}`)) {
    throw new GitHostError(
      "checked-out",
      `${ref.replace("refs/heads/", "")} is checked out; switch away first`,
    );
  }
}

async function resolveRef(dir: string, ref: string): Promise<string> {
  const commit = REF.test(ref) ? await resolveCommit(dir, `${ref}^{commit}`) : undefined;
  if (!commit)
    throw new GitHostError("unknown-ref", `${JSON.stringify(ref)} is not a branch, tag or commit here`);
  return commit;
}

async function resolveCommit(dir: string, rev: string): Promise<string | undefined> {
  const run = await tryGit(dir, ["rev-parse", "--verify", "--quiet", rev]);
  return run.exitCode === 0 ? text(run.stdout) : undefined;
}

async function changedFiles(dir: string, base: string, head: string): Promise<string[]> {
  const out = await git(dir, ["diff", "--name-only", "--no-renames", "-z", base, head]);
  return out.toString("utf8").split("\0").filter(Boolean).sort();
}

function ceiling(dir: string): Record<string, string> {
  return { GIT_CEILING_DIRECTORIES: dirname(dir) };
}

function text(out: Buffer): string {
  return out.toString("utf8").trim();
}
