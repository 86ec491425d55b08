import { GitbeakerRequestError, Gitlab } from "@gitbeaker/rest";
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
 * The GitLab git host (`@gitbeaker/rest`): a change is a merge request from `slo-scout/<service>` whose
 * one commit (the Commits API with one action per file) holds every file; its description is the change's
 * body and its notes are the comments. Works with gitlab.com and self-hosted GitLab alike (`host`).
 */

export type GitLabApi = Gitlab<false>;

/** A GitLab client for `host` (https://gitlab.com or a self-hosted instance) with an access token. */
export function gitlabApi(options: { host: string; token: string }): GitLabApi {
  return new Gitlab({ host: options.host.replace(/\/+$/, ""), token: options.token, queryTimeout: 30_000 });
}

export interface GitLabGitHostOptions {
  api: GitLabApi;
  /** The project: its numeric id or its path with namespace (`group/project`). */
  project: string | number;
  /** Where changes start when the request names no base; the project's default branch, asked once, when absent. */
  defaultBranch?: string;
  /** Labels every merge request gets. */
  labels?: string[];
}

/** Where a note lives: a merge request or an issue of the project, by its iid. */
export interface Noteable {
  kind: "merge_request" | "issue";
  iid: number;
}

const BRANCH_PREFIX = "slo-scout/";
/** GitLab's limit on a note and on a merge request's description. */
const MAX_BODY = 1_000_000;
const SHA = /^[0-9a-f]{40}$/;
const NOTE_ID = /^(merge_request|issue):(\d{1,12}):(\d{1,15})$/;

/** The comment id `editComment` takes: where the note is and its id. */
export function noteCommentId(noteable: Noteable, noteId: number): string {
  return `${noteable.kind}:${noteable.iid}:${noteId}`;
}

/** Posts a note on a merge request or an issue; returns its comment id. */
export async function postNote(
  api: GitLabApi,
  project: string | number,
  noteable: Noteable,
  body: string,
): Promise<string> {
  checkBody(body, "comment", MAX_BODY);
  const note =
    noteable.kind === "merge_request"
      ? await api.MergeRequestNotes.create(project, noteable.iid, body)
      : await api.IssueNotes.create(project, noteable.iid, body);
  return noteCommentId(noteable, note.id);
}

/** Replaces a note's text, by the id `postNote` returned. */
export async function editNote(
  api: GitLabApi,
  project: string | number,
  commentId: string,
  body: string,
): Promise<void> {
  checkBody(body, "comment", MAX_BODY);
  const m = NOTE_ID.exec(commentId);
  if (!m) throw new GitHostError("unknown-comment", `${JSON.stringify(commentId)} is not a GitLab note id`);
  const [iid, noteId] = [Number(m[2]), Number(m[3])];
  try {
    if (m[1] === "merge_request") await api.MergeRequestNotes.edit(project, iid, noteId, { body });
    else await api.IssueNotes.edit(project, iid, noteId, { body });
  } catch (err) {
    if (statusOf(err) === 404) throw new GitHostError("unknown-comment", `no note ${commentId}`);
    throw err;
  }
}

/** The HTTP status of a failed GitLab call, when it got that far. */
export function statusOf(err: unknown): number | undefined {
  if (!(err instanceof GitbeakerRequestError)) return undefined;
  const cause = err.cause as { response?: { status?: number } } | undefined;
  return cause?.response?.status;
}

type Action = { action: "create" | "update"; filePath: string; content: string };

export function gitlabGitHost(options: GitLabGitHostOptions): GitHost {
  const { api, project } = options;
  let defaultBranch: Promise<string> | undefined = options.defaultBranch
    ? Promise.resolve(options.defaultBranch)
    : undefined;
  const baseBranch = () => {
    if (!defaultBranch) {
      defaultBranch = api.Projects.show(project).then((p) => String(p.default_branch ?? "main"));
      defaultBranch.catch(() => {
        defaultBranch = undefined;
      });
    }
    return defaultBranch;
  };

  // Writes in this process run one at a time, so two approvals of one service cannot race for a branch.
  let queue: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = queue.then(fn, fn);
    queue = run.catch(() => {});
    return run;
  };

  async function readFile(path: string, ref?: string): Promise<string | undefined> {
    checkRepoPath(path);
    const at = ref ?? (await baseBranch());
    try {
      const file = await api.RepositoryFiles.show(project, path, at);
      return Buffer.from(String(file.content), file.encoding === "base64" ? "base64" : "utf8").toString(
        "utf8",
      );
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
      // GitLab answers 404 both for a missing file and for a ref it does not know; its message tells which.
      if (/file/i.test((err as Error).message)) return undefined;
      throw new GitHostError("unknown-ref", `${JSON.stringify(at)} is not a branch, tag or commit here`);
    }
  }

  /** One action per file whose content differs at `ref`: create when it is new there, update otherwise. */
  async function actionsAt(files: ChangeFile[], ref: string): Promise<Action[]> {
    const current = await Promise.all(files.map((f) => readFile(f.path, ref)));
    const actions: Action[] = [];
    files.forEach((f, i) => {
      const now = current[i];
      if (now === f.content) return;
      actions.push({ action: now === undefined ? "create" : "update", filePath: f.path, content: f.content });
    });
    return actions;
  }

  async function mergeRequest(changeId: string) {
    if (!/^\d{1,12}$/.test(changeId)) return undefined;
    try {
      return await api.MergeRequests.show(project, Number(changeId));
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  }

  async function listChangeFiles(changeId: string): Promise<string[]> {
    if (!/^\d{1,12}$/.test(changeId)) throw new GitHostError("unknown-change", `no change ${changeId}`);
    try {
      const diffs = await api.MergeRequests.allDiffs(project, Number(changeId));
      return [...new Set(diffs.flatMap((d) => [d.old_path, d.new_path]))].sort();
    } catch (err) {
      if (statusOf(err) === 404) throw new GitHostError("unknown-change", `no change ${changeId}`);
      throw err;
    }
  }

  function toChange(
    mr: {
      iid: number;
      source_branch: string;
      web_url: string;
      sha?: string | null;
      title: string;
      description?: string | null;
    },
    files: string[],
    commit?: string,
  ): Change {
    return {
      id: String(mr.iid),
      branch: mr.source_branch,
      url: mr.web_url,
      commit: commit ?? String(mr.sha ?? ""),
      files: [...new Set(files)].sort(),
      title: mr.title,
      body: mr.description ?? "",
    };
  }

  /** `slo-scout/<service>`, or the first free `-2`, `-3`, … name. */
  async function freeBranch(service: string): Promise<string> {
    for (let n = 1; n <= 100; n++) {
      const branch = `${BRANCH_PREFIX}${service}${n === 1 ? "" : `-${n}`}`;
      try {
        await api.Branches.show(project, branch);
      } catch (err) {
        if (statusOf(err) === 404) return branch;
        throw err;
      }
    }
    throw new GitHostError("bad-request", `no free branch name for ${service} (100 are taken)`);
  }

  async function update(changeId: string, req: UpdateChangeRequest): Promise<Change> {
    checkChangeFiles(req.files, req.allowedPaths);
    if (req.title !== undefined) checkTitle(req.title);
    if (req.body !== undefined) checkBody(req.body, "body", MAX_BODY);
    const mr = await mergeRequest(changeId);
    if (mr?.state !== "opened") throw new GitHostError("unknown-change", `no open change ${changeId}`);
    const actions = await actionsAt(req.files, mr.source_branch);
    const title = req.title ?? mr.title;
    const commit =
      actions.length > 0
        ? await api.Commits.create(project, mr.source_branch, req.message ?? `Update: ${title}`, actions)
        : undefined;
    const edited =
      req.title !== undefined || req.body !== undefined
        ? await api.MergeRequests.edit(project, mr.iid, {
            ...(req.title !== undefined ? { title: req.title } : {}),
            ...(req.body !== undefined ? { description: req.body } : {}),
          })
        : mr;
    const files = [...(await listChangeFiles(changeId)), ...actions.map((a) => a.filePath)];
    return toChange(edited, files, commit?.id);
  }

  return {
    readFile,

    openChange(req: OpenChangeRequest) {
      return exclusive(async () => {
        checkService(req.service);
        checkTitle(req.title);
        checkBody(req.body, "body", MAX_BODY);
        checkChangeFiles(req.files, req.allowedPaths);
        if (req.update) {
          const [open] = await api.MergeRequests.all({
            projectId: project,
            sourceBranch: `${BRANCH_PREFIX}${req.service}`,
            state: "opened",
          });
          if (open) {
            const { title, body, files, allowedPaths } = req;
            return update(String(open.iid), { title, body, files, allowedPaths });
          }
        }
        const base = req.baseRef ?? (await baseBranch());
        const actions = await actionsAt(req.files, base);
        if (actions.length === 0)
          throw new GitHostError("no-changes", `the files are already like this at ${base}`);
        const branch = await freeBranch(req.service);
        const start = SHA.test(base) ? { startSha: base } : { startBranch: base };
        const commit = await api.Commits.create(project, branch, req.title, actions, start);
        const target = SHA.test(base) ? await baseBranch() : base;
        const mr = await api.MergeRequests.create(project, branch, target, req.title, {
          description: req.body,
          removeSourceBranch: true,
          ...(options.labels?.length ? { labels: options.labels.join(",") } : {}),
        });
        return toChange(
          mr,
          actions.map((a) => a.filePath),
          commit.id,
        );
      });
    },

    updateChange(changeId, req) {
      return exclusive(() => update(changeId, req));
    },

    async getChange(changeId) {
      const mr = await mergeRequest(changeId);
      return mr ? toChange(mr, await listChangeFiles(changeId)) : undefined;
    },

    listChangeFiles,

    async postComment(changeId, body) {
      if (!/^\d{1,12}$/.test(changeId)) throw new GitHostError("unknown-change", `no change ${changeId}`);
      try {
        return await postNote(api, project, { kind: "merge_request", iid: Number(changeId) }, body);
      } catch (err) {
        if (statusOf(err) === 404) throw new GitHostError("unknown-change", `no change ${changeId}`);
        throw err;
      }
    },

    editComment(commentId, body) {
      return editNote(api, project, commentId, body);
    },

    async close() {
      await queue;
    },
  };
}
