import type { Policy } from "../../core/proposal.js";
import {
  type Change,
  type ChangeFile,
  type GitHost,
  GitHostError,
  type OpenChangeRequest,
  type UpdateChangeRequest,
} from "../ports.js";
import { checkBody, checkChangeFiles, checkRepoPath, checkService, checkTitle } from "./change-paths.js";

/**
 * The GitHub git host, over an installation's Octokit (Probot's, which retries 5xx and waits out rate
 * limits). A change is a pull request from `slo-scout/<service>`; every commit is one GraphQL
 * `createCommitOnBranch` carrying all of its files, so GitHub signs it for the App (Verified) and nothing
 * is ever checked out. Comments are issue comments (a pull request's conversation is its issue's).
 */

/** The part of an Octokit this adapter uses; Probot's `context.octokit` is one. */
export interface GitHubApi {
  request(route: string, params?: Record<string, unknown>): Promise<{ data: unknown; status: number }>;
  graphql<T = unknown>(query: string, variables?: Record<string, unknown>): Promise<T>;
}

export interface GitHubGitHostOptions {
  api: GitHubApi;
  owner: string;
  repo: string;
  /** Where changes start when the request names no base; the repository's default branch, asked once. */
  defaultBranch?: string;
  /** Labels every pull request gets. */
  labels?: string[];
  /** The policy from the repository's SLO-Scout config, when it has one. */
  policy?: { policy: Policy; source: string };
}

const BRANCH_PREFIX = "slo-scout/";
/** GitHub's limit on a pull request body and an issue comment. */
const MAX_BODY = 65_536;
const NUMBER = /^[1-9]\d{0,11}$/;
const MAX_SUFFIX = 20;
const FILES_PAGE = 100;
/** GitHub lists at most 3000 files of a pull request. */
const MAX_FILE_PAGES = 30;

const CREATE_COMMIT = `mutation($input: CreateCommitOnBranchInput!) {
  createCommitOnBranch(input: $input) { commit { oid url } }
}`;

interface PullRequest {
  number: number;
  html_url: string;
  title: string;
  body: string | null;
  state: string;
  head: { ref: string; sha: string };
  base: { ref: string };
}

const status = (err: unknown) =>
  typeof err === "object" && err !== null && "status" in err
    ? Number((err as { status: unknown }).status)
    : 0;

export function githubGitHost(options: GitHubGitHostOptions): GitHost {
  const { api, owner, repo } = options;
  const repository = { owner, repo };
  let defaultBranch: Promise<string> | undefined;
  const baseBranch = () => {
    if (options.defaultBranch) return Promise.resolve(options.defaultBranch);
    defaultBranch ??= api.request("GET /repos/{owner}/{repo}", repository).then(({ data }) => {
      return (data as { default_branch: string }).default_branch;
    });
    defaultBranch.catch(() => {
      defaultBranch = undefined;
    });
    return defaultBranch;
  };

  async function readFile(path: string, ref?: string): Promise<string | undefined> {
    checkRepoPath(path);
    try {
      const { data } = await api.request("GET /repos/{owner}/{repo}/contents/{path}", {
        ...repository,
        path,
        ref: ref ?? (await baseBranch()),
        mediaType: { format: "raw" },
      });
      // A directory answers with its listing, not a file.
      return typeof data === "string" ? data : undefined;
    } catch (err) {
      if (status(err) === 404) return undefined;
      throw err;
    }
  }

  async function headOf(branch: string): Promise<string | undefined> {
    try {
      const { data } = await api.request("GET /repos/{owner}/{repo}/git/ref/{ref}", {
        ...repository,
        ref: `heads/${branch}`,
      });
      return (data as { object: { sha: string } }).object.sha;
    } catch (err) {
      if (status(err) === 404) return undefined;
      throw err;
    }
  }

  /** A branch, tag or commit as a commit id. */
  async function commitOf(ref: string): Promise<string> {
    try {
      const { data } = await api.request("GET /repos/{owner}/{repo}/commits/{ref}", {
        ...repository,
        ref,
        mediaType: { format: "sha" },
      });
      return String(data).trim();
    } catch (err) {
      if (status(err) === 404 || status(err) === 422) throw new GitHostError("unknown-ref", `no ref ${ref}`);
      throw err;
    }
  }

  /** The files whose content differs at `ref`: what a commit on top of it must carry. */
  async function changedAt(files: ChangeFile[], ref: string): Promise<ChangeFile[]> {
    const out: ChangeFile[] = [];
    for (const f of files) if ((await readFile(f.path, ref)) !== f.content) out.push(f);
    return out;
  }

  async function commit(branch: string, head: string, files: ChangeFile[], message: string): Promise<string> {
    const result = await api.graphql<{ createCommitOnBranch: { commit: { oid: string } } }>(CREATE_COMMIT, {
      input: {
        branch: { repositoryNameWithOwner: `${owner}/${repo}`, branchName: branch },
        message: { headline: message.split("\n")[0]!.slice(0, 250) },
        expectedHeadOid: head,
        fileChanges: {
          additions: files.map((f) => ({
            path: f.path,
            contents: Buffer.from(f.content).toString("base64"),
          })),
        },
      },
    });
    return result.createCommitOnBranch.commit.oid;
  }

  async function pull(number: string): Promise<PullRequest | undefined> {
    if (!NUMBER.test(number)) return undefined;
    try {
      const { data } = await api.request("GET /repos/{owner}/{repo}/pulls/{pull_number}", {
        ...repository,
        pull_number: Number(number),
      });
      return data as PullRequest;
    } catch (err) {
      if (status(err) === 404) return undefined;
      throw err;
    }
  }

  async function listFiles(number: number): Promise<string[]> {
    const out: string[] = [];
    for (let page = 1; page <= MAX_FILE_PAGES; page++) {
      const { data } = await api.request("GET /repos/{owner}/{repo}/pulls/{pull_number}/files", {
        ...repository,
        pull_number: number,
        per_page: FILES_PAGE,
        page,
      });
      const files = data as { filename: string }[];
      out.push(...files.map((f) => f.filename));
      if (files.length < FILES_PAGE) break;
    }
    return out.sort();
  }

  async function label(number: number) {
    if (!options.labels?.length) return;
    await api.request("POST /repos/{owner}/{repo}/issues/{issue_number}/labels", {
      ...repository,
      issue_number: number,
      labels: options.labels,
    });
  }

  const toChange = (pr: PullRequest, commitId: string, files: string[]): Change => ({
    id: String(pr.number),
    branch: pr.head.ref,
    url: pr.html_url,
    commit: commitId,
    files,
    title: pr.title,
    body: pr.body ?? "",
  });

  async function openPullFor(branchPrefix: string): Promise<PullRequest | undefined> {
    const { data } = await api.request("GET /repos/{owner}/{repo}/pulls", {
      ...repository,
      head: `${owner}:${branchPrefix}`,
      state: "open",
      per_page: 1,
    });
    return (data as PullRequest[])[0];
  }

  async function update(number: string, req: UpdateChangeRequest): Promise<Change> {
    checkChangeFiles(req.files, req.allowedPaths);
    if (req.title !== undefined) checkTitle(req.title);
    if (req.body !== undefined) checkBody(req.body, "body", MAX_BODY);
    const pr = await pull(number);
    if (pr?.state !== "open") throw new GitHostError("unknown-change", `no open pull request #${number}`);
    const changed = await changedAt(req.files, pr.head.sha);
    const head =
      changed.length > 0
        ? await commit(pr.head.ref, pr.head.sha, changed, req.message ?? `Update: ${req.title ?? pr.title}`)
        : pr.head.sha;
    let current = pr;
    if (req.title !== undefined || req.body !== undefined) {
      const { data } = await api.request("PATCH /repos/{owner}/{repo}/pulls/{pull_number}", {
        ...repository,
        pull_number: pr.number,
        ...(req.title !== undefined ? { title: req.title } : {}),
        ...(req.body !== undefined ? { body: req.body } : {}),
      });
      current = data as PullRequest;
    }
    await label(pr.number);
    return toChange(current, head, await listFiles(pr.number));
  }

  /** Creates `slo-scout/<service>` (or the first free `-N` suffix) at `base`; returns its name. */
  async function createBranch(service: string, base: string, reuse: boolean): Promise<string> {
    for (let n = 1; n <= MAX_SUFFIX; n++) {
      const branch = `${BRANCH_PREFIX}${service}${n === 1 ? "" : `-${n}`}`;
      try {
        await api.request("POST /repos/{owner}/{repo}/git/refs", {
          ...repository,
          ref: `refs/heads/${branch}`,
          sha: base,
        });
        return branch;
      } catch (err) {
        if (status(err) !== 422) throw err;
      }
      // The branch exists without an open pull request (a closed one left it): start it over.
      if (reuse) {
        await api.request("PATCH /repos/{owner}/{repo}/git/refs/{ref}", {
          ...repository,
          ref: `heads/${branch}`,
          sha: base,
          force: true,
        });
        return branch;
      }
    }
    throw new GitHostError("bad-request", `${service} has ${MAX_SUFFIX} SLO-Scout branches already`);
  }

  return {
    readFile,

    async openChange(req: OpenChangeRequest) {
      checkService(req.service);
      checkTitle(req.title);
      checkBody(req.body, "body", MAX_BODY);
      checkChangeFiles(req.files, req.allowedPaths);
      if (req.update) {
        const open = await openPullFor(`${BRANCH_PREFIX}${req.service}`);
        if (open) {
          const { title, body, files, allowedPaths } = req;
          return update(String(open.number), { title, body, files, allowedPaths });
        }
      }
      const baseRef = req.baseRef ?? (await baseBranch());
      const base = (await headOf(baseRef)) ?? (await commitOf(baseRef));
      const changed = await changedAt(req.files, base);
      if (changed.length === 0)
        throw new GitHostError("no-changes", `the files are already like this at ${baseRef}`);
      const branch = await createBranch(req.service, base, req.update === true);
      const head = await commit(branch, base, changed, req.title);
      const { data } = await api.request("POST /repos/{owner}/{repo}/pulls", {
        ...repository,
        title: req.title,
        head: branch,
        base: req.baseRef ?? (await baseBranch()),
        body: req.body,
        maintainer_can_modify: true,
      });
      const pr = data as PullRequest;
      await label(pr.number);
      return toChange(pr, head, changed.map((f) => f.path).sort());
    },

    updateChange: update,

    async getChange(changeId) {
      const pr = await pull(changeId);
      return pr ? toChange(pr, pr.head.sha, await listFiles(pr.number)) : undefined;
    },

    async listChangeFiles(changeId) {
      const pr = await pull(changeId);
      if (!pr) throw new GitHostError("unknown-change", `no pull request #${changeId}`);
      return listFiles(pr.number);
    },

    async postComment(changeId, body) {
      checkBody(body, "comment", MAX_BODY);
      if (!NUMBER.test(changeId))
        throw new GitHostError("unknown-change", `no issue or pull request ${changeId}`);
      const { data } = await api.request("POST /repos/{owner}/{repo}/issues/{issue_number}/comments", {
        ...repository,
        issue_number: Number(changeId),
        body,
      });
      return String((data as { id: number }).id);
    },

    async editComment(commentId, body) {
      checkBody(body, "comment", MAX_BODY);
      if (!/^\d{1,15}$/.test(commentId))
        throw new GitHostError("unknown-comment", `${JSON.stringify(commentId)} is not a comment id`);
      try {
        await api.request("PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}", {
          ...repository,
          comment_id: Number(commentId),
          body,
        });
      } catch (err) {
        if (status(err) === 404) throw new GitHostError("unknown-comment", `no comment ${commentId}`);
        throw err;
      }
    },

    ...(options.policy ? { policy: async () => options.policy } : {}),

    async close() {},
  };
}
