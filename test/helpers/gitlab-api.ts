/**
 * Response bodies of the GitLab REST API v4 as its documentation shows them (doc/api/merge_requests.md,
 * commits.md, repository_files.md, notes.md, members.md, award_emoji.md), trimmed to the documented fields
 * SLO-Scout reads plus enough of the rest to look like the real thing. Tests answer nock interceptors
 * with these.
 */

export const GITLAB = "https://gitlab.example.com";
export const API = "/api/v4";
export const PROJECT = { id: 42, path: "acme/shop" };
export const projectPath = (rest: string) => `${API}/projects/${PROJECT.id}${rest}`;

export const JSON_HEADERS = { "content-type": "application/json" };

export function fileBody(path: string, content: string, ref = "main") {
  return {
    file_name: path.split("/").at(-1),
    file_path: path,
    size: Buffer.byteLength(content),
    encoding: "base64",
    content: Buffer.from(content).toString("base64"),
    content_sha256: "4c294617b60715c1d218e61164a3abd4808a4284cbc30e6728a01ad9aada4481",
    ref,
    blob_id: "79f7bbd25901e8334750839545a9bd021f0e4c83",
    commit_id: "d5a3ff139356ce33e37e73add446f16869741b50",
    last_commit_id: "570e7b2abdd848b95f2f578043fc23bd6f6fd24d",
    execute_filemode: false,
  };
}

export const FILE_NOT_FOUND = { message: "404 File Not Found" };
export const COMMIT_NOT_FOUND = { message: "404 Commit Not Found" };
export const BRANCH_NOT_FOUND = { message: "404 Branch Not Found" };
export const NOT_FOUND = { message: "404 Not found" };

export function commitBody(id: string, title: string) {
  return {
    id,
    short_id: id.slice(0, 11),
    title,
    message: title,
    author_name: "SLO-Scout",
    author_email: "slo-scout@example.com",
    authored_date: "2026-12-06T10:00:00.000Z",
    committer_name: "SLO-Scout",
    committer_email: "slo-scout@example.com",
    committed_date: "2026-12-06T10:00:00.000Z",
    created_at: "2026-12-06T10:00:00.000Z",
    parent_ids: ["ae1d9fb46aa2b07ee9836d49862ec4e2c46fbbba"],
    stats: { additions: 2, deletions: 2, total: 4 },
    status: null,
    last_pipeline: null,
    web_url: `${GITLAB}/${PROJECT.path}/-/commit/${id}`,
  };
}

export function mergeRequestBody(mr: {
  iid: number;
  sourceBranch: string;
  title: string;
  description: string;
  sha: string;
  state?: "opened" | "closed" | "merged";
  targetBranch?: string;
}) {
  return {
    id: 1000 + mr.iid,
    iid: mr.iid,
    project_id: PROJECT.id,
    title: mr.title,
    description: mr.description,
    state: mr.state ?? "opened",
    created_at: "2026-12-06T10:00:00.000Z",
    updated_at: "2026-12-06T10:00:00.000Z",
    target_branch: mr.targetBranch ?? "main",
    source_branch: mr.sourceBranch,
    upvotes: 0,
    downvotes: 0,
    author: { id: 7, name: "SLO-Scout", username: "slo-scout-bot", state: "active" },
    source_project_id: PROJECT.id,
    target_project_id: PROJECT.id,
    labels: [],
    draft: false,
    work_in_progress: false,
    merge_when_pipeline_succeeds: false,
    merge_status: "checking",
    detailed_merge_status: "checking",
    sha: mr.sha,
    merge_commit_sha: null,
    squash_commit_sha: null,
    user_notes_count: 0,
    should_remove_source_branch: true,
    force_remove_source_branch: true,
    references: { short: `!${mr.iid}`, relative: `!${mr.iid}`, full: `${PROJECT.path}!${mr.iid}` },
    web_url: `${GITLAB}/${PROJECT.path}/-/merge_requests/${mr.iid}`,
    squash: false,
    has_conflicts: false,
    blocking_discussions_resolved: true,
  };
}

export function diffBody(path: string, opts: { newFile?: boolean; oldPath?: string } = {}) {
  return {
    old_path: opts.oldPath ?? path,
    new_path: path,
    a_mode: opts.newFile ? "0" : "100644",
    b_mode: "100644",
    diff: "@@ -0,0 +1 @@\n+x\n",
    new_file: opts.newFile ?? false,
    renamed_file: opts.oldPath !== undefined,
    deleted_file: false,
    generated_file: false,
  };
}

export function noteBody(
  id: number,
  body: string,
  noteable: { type: "MergeRequest" | "Issue"; iid: number },
) {
  return {
    id,
    type: null,
    body,
    attachment: null,
    author: { id: 7, username: "slo-scout-bot", name: "SLO-Scout", state: "active" },
    created_at: "2026-12-06T10:00:00.000Z",
    updated_at: "2026-12-06T10:00:00.000Z",
    system: false,
    noteable_id: 1000 + noteable.iid,
    noteable_type: noteable.type,
    project_id: PROJECT.id,
    resolvable: false,
    confidential: false,
    internal: false,
    noteable_iid: noteable.iid,
  };
}

export function awardBody(id: number, name: string, awardable: { type: "Note"; id: number }) {
  return {
    id,
    name,
    user: { id: 7, name: "SLO-Scout", username: "slo-scout-bot", state: "active" },
    created_at: "2026-12-06T10:00:00.000Z",
    updated_at: "2026-12-06T10:00:00.000Z",
    awardable_id: awardable.id,
    awardable_type: awardable.type,
  };
}

/** A member as `GET /projects/:id/members/all/:user_id` returns it; 30 is Developer, 20 Reporter. */
export function memberBody(user: { id: number; username: string; name: string }, accessLevel: number) {
  return {
    id: user.id,
    username: user.username,
    name: user.name,
    state: "active",
    avatar_url: `${GITLAB}/uploads/user/avatar/${user.id}/avatar.png`,
    web_url: `${GITLAB}/${user.username}`,
    access_level: accessLevel,
    created_at: "2026-01-01T00:00:00.000Z",
    expires_at: null,
    membership_state: "active",
  };
}

export function projectBody(defaultBranch = "main") {
  return {
    id: PROJECT.id,
    name: "shop",
    path: "shop",
    path_with_namespace: PROJECT.path,
    default_branch: defaultBranch,
    web_url: `${GITLAB}/${PROJECT.path}`,
  };
}
