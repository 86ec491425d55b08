import nock from "nock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.js";
import { gitlabApi, gitlabGitHost } from "../../src/store/githost/gitlab.js";
import { openGitHost } from "../../src/store/githost/open.js";
import { type ChangeFile, type GitHost, GitHostError } from "../../src/store/ports.js";
import {
  BRANCH_NOT_FOUND,
  COMMIT_NOT_FOUND,
  commitBody,
  diffBody,
  FILE_NOT_FOUND,
  fileBody,
  GITLAB,
  JSON_HEADERS,
  mergeRequestBody,
  NOT_FOUND,
  noteBody,
  PROJECT,
  projectBody,
  projectPath,
} from "../helpers/gitlab-api.js";

const ALLOWED = ["slos/**", "rules/**", "dashboards/**", "runbooks/**"];
const FILES: ChangeFile[] = [
  { path: "slos/checkout.yml", content: "version: prometheus/v1\nservice: checkout\n" },
  { path: "rules/checkout.rules.yml", content: "groups: []\n" },
  { path: "dashboards/checkout.json", content: '{"title":"checkout"}\n' },
  { path: "runbooks/checkout/availability.md", content: "# Checkout runbook\n" },
];
const SHA = "ed899a2f4b50b4370feeea94676502b42383c746";

const filePath = (path: string) => projectPath(`/repository/files/${encodeURIComponent(path)}`);

function host(defaultBranch: string | null = "main"): GitHost {
  const api = gitlabApi({ host: `${GITLAB}/`, token: "glpat-test" });
  return gitlabGitHost({
    api,
    project: PROJECT.id,
    ...(defaultBranch ? { defaultBranch } : {}),
    labels: ["slo-scout"],
  });
}

/** Answers the files API for every file: its content at `ref`, or 404 when absent there. */
function filesAt(scope: nock.Scope, ref: string, existing: Record<string, string>) {
  for (const f of FILES) {
    const held = existing[f.path];
    scope
      .get(filePath(f.path))
      .query({ ref })
      .reply(
        held === undefined ? 404 : 200,
        held === undefined ? FILE_NOT_FOUND : fileBody(f.path, held, ref),
        JSON_HEADERS,
      );
  }
}

beforeEach(() => {
  nock.disableNetConnect();
});
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

describe("GitLab git host", () => {
  it("opens a change as one commit with an action per changed file, then a merge request with the body", async () => {
    const scope = nock(GITLAB).matchHeader("private-token", "glpat-test");
    filesAt(scope, "main", {
      "dashboards/checkout.json": '{"title":"old"}\n',
      "rules/checkout.rules.yml": "groups: []\n",
    });
    let commit: Record<string, unknown> = {};
    let mr: Record<string, unknown> = {};
    scope
      .get(projectPath(`/repository/branches/${encodeURIComponent("slo-scout/checkout")}`))
      .reply(404, BRANCH_NOT_FOUND, JSON_HEADERS)
      .post(projectPath("/repository/commits"), (b) => {
        commit = b;
        return true;
      })
      .reply(201, commitBody(SHA, "SLOs for checkout"), JSON_HEADERS)
      .post(projectPath("/merge_requests"), (b) => {
        mr = b;
        return true;
      })
      .reply(
        201,
        mergeRequestBody({
          iid: 7,
          sourceBranch: "slo-scout/checkout",
          title: "SLOs for checkout",
          description: "## Proposals\n",
          sha: SHA,
        }),
        JSON_HEADERS,
      );

    const change = await host().openChange({
      service: "checkout",
      title: "SLOs for checkout",
      body: "## Proposals\n",
      files: FILES,
      allowedPaths: ALLOWED,
    });

    expect(commit).toEqual({
      branch: "slo-scout/checkout",
      commit_message: "SLOs for checkout",
      start_branch: "main",
      actions: [
        { action: "create", file_path: "slos/checkout.yml", content: FILES[0]!.content },
        { action: "update", file_path: "dashboards/checkout.json", content: FILES[2]!.content },
        { action: "create", file_path: "runbooks/checkout/availability.md", content: FILES[3]!.content },
      ],
    });
    expect(mr).toEqual({
      source_branch: "slo-scout/checkout",
      target_branch: "main",
      title: "SLOs for checkout",
      description: "## Proposals\n",
      remove_source_branch: true,
      labels: "slo-scout",
    });
    expect(change).toEqual({
      id: "7",
      branch: "slo-scout/checkout",
      url: `${GITLAB}/${PROJECT.path}/-/merge_requests/7`,
      commit: SHA,
      files: ["dashboards/checkout.json", "runbooks/checkout/availability.md", "slos/checkout.yml"],
      title: "SLOs for checkout",
      body: "## Proposals\n",
    });
    expect(scope.pendingMocks()).toEqual([]);
  });

  it("takes the next branch name when slo-scout/<service> exists, and asks the project for its default branch", async () => {
    const scope = nock(GITLAB).get(projectPath("")).reply(200, projectBody("trunk"), JSON_HEADERS);
    filesAt(scope, "trunk", {});
    let commit: Record<string, unknown> = {};
    scope
      .get(projectPath(`/repository/branches/${encodeURIComponent("slo-scout/checkout")}`))
      .reply(200, { name: "slo-scout/checkout", merged: false }, JSON_HEADERS)
      .get(projectPath(`/repository/branches/${encodeURIComponent("slo-scout/checkout-2")}`))
      .reply(404, BRANCH_NOT_FOUND, JSON_HEADERS)
      .post(projectPath("/repository/commits"), (b) => {
        commit = b;
        return true;
      })
      .reply(201, commitBody(SHA, "t"), JSON_HEADERS)
      .post(projectPath("/merge_requests"), (b) => b.target_branch === "trunk")
      .reply(
        201,
        mergeRequestBody({
          iid: 8,
          sourceBranch: "slo-scout/checkout-2",
          title: "t",
          description: "b",
          sha: SHA,
        }),
        JSON_HEADERS,
      );

    const change = await host(null).openChange({
      service: "checkout",
      title: "t",
      body: "b",
      files: FILES,
      allowedPaths: ALLOWED,
    });
    expect(commit).toMatchObject({ branch: "slo-scout/checkout-2", start_branch: "trunk" });
    expect((commit.actions as unknown[]).length).toBe(FILES.length);
    expect(change.branch).toBe("slo-scout/checkout-2");
    expect(scope.pendingMocks()).toEqual([]);
  });

  it("updates the open merge request of the service with one more commit when asked to", async () => {
    const open = mergeRequestBody({
      iid: 7,
      sourceBranch: "slo-scout/checkout",
      title: "old title",
      description: "old",
      sha: "570e7b2abdd848b95f2f578043fc23bd6f6fd24d",
    });
    const scope = nock(GITLAB)
      .get(projectPath("/merge_requests"))
      .query({ source_branch: "slo-scout/checkout", state: "opened" })
      .reply(200, [open], JSON_HEADERS)
      .get(projectPath("/merge_requests/7"))
      .reply(200, open, JSON_HEADERS);
    filesAt(
      scope,
      "slo-scout/checkout",
      Object.fromEntries(FILES.map((f, i) => [f.path, i === 0 ? "stale: true\n" : f.content])),
    );
    let commit: Record<string, unknown> = {};
    let edit: Record<string, unknown> = {};
    scope
      .post(projectPath("/repository/commits"), (b) => {
        commit = b;
        return true;
      })
      .reply(201, commitBody(SHA, "Update: new title"), JSON_HEADERS)
      .put(projectPath("/merge_requests/7"), (b) => {
        edit = b;
        return true;
      })
      .reply(200, { ...open, title: "new title", description: "new" }, JSON_HEADERS)
      .get(projectPath("/merge_requests/7/diffs"))
      .reply(
        200,
        FILES.map((f) => diffBody(f.path, { newFile: true })),
        JSON_HEADERS,
      );

    const change = await host().openChange({
      service: "checkout",
      title: "new title",
      body: "new",
      files: FILES,
      allowedPaths: ALLOWED,
      update: true,
    });
    expect(commit).toEqual({
      branch: "slo-scout/checkout",
      commit_message: "Update: new title",
      actions: [{ action: "update", file_path: "slos/checkout.yml", content: FILES[0]!.content }],
    });
    expect(edit).toEqual({ title: "new title", description: "new" });
    expect(change).toMatchObject({ id: "7", commit: SHA, title: "new title", body: "new" });
    expect(change.files).toEqual(FILES.map((f) => f.path).sort());
    expect(scope.pendingMocks()).toEqual([]);
  });

  it("refuses a change whose files are already like that, and bad input before any call", async () => {
    const scope = nock(GITLAB);
    filesAt(scope, "main", Object.fromEntries(FILES.map((f) => [f.path, f.content])));
    const gl = host();
    const req = { service: "checkout", title: "t", body: "b", files: FILES, allowedPaths: ALLOWED };
    await expect(gl.openChange(req)).rejects.toMatchObject({ code: "no-changes" });
    expect(scope.pendingMocks()).toEqual([]);

    // No interceptor is left: a call to GitLab would fail with a network error, not these codes.
    await expect(gl.openChange({ ...req, service: "../x" })).rejects.toMatchObject({ code: "bad-request" });
    await expect(
      gl.openChange({ ...req, files: [{ path: ".git/config", content: "x" }] }),
    ).rejects.toMatchObject({ code: "bad-path" });
    await expect(
      gl.openChange({ ...req, files: [{ path: "src/app.ts", content: "x" }] }),
    ).rejects.toMatchObject({ code: "bad-path" });
    await expect(gl.readFile("../etc/passwd")).rejects.toBeInstanceOf(GitHostError);
    await expect(gl.editComment("123", "x")).rejects.toMatchObject({ code: "unknown-comment" });
  });

  it("reads a file at a ref: its content, undefined when absent, unknown-ref for a ref GitLab does not know", async () => {
    nock(GITLAB)
      .get(filePath(".slo-scout/policy.yml"))
      .query({ ref: "main" })
      .reply(200, fileBody(".slo-scout/policy.yml", "approvers: [alice]\n"), JSON_HEADERS)
      .get(filePath("slos/checkout.yml"))
      .query({ ref: "main" })
      .reply(404, FILE_NOT_FOUND, JSON_HEADERS)
      .get(filePath("slos/checkout.yml"))
      .query({ ref: "nope" })
      .reply(404, COMMIT_NOT_FOUND, JSON_HEADERS);
    const gl = host();
    expect(await gl.readFile(".slo-scout/policy.yml")).toBe("approvers: [alice]\n");
    expect(await gl.readFile("slos/checkout.yml")).toBeUndefined();
    await expect(gl.readFile("slos/checkout.yml", "nope")).rejects.toMatchObject({ code: "unknown-ref" });
  });

  it("gets a merge request as a change with its files, and notes on it are posted and edited in place", async () => {
    const mr = mergeRequestBody({
      iid: 7,
      sourceBranch: "slo-scout/checkout",
      title: "t",
      description: "b",
      sha: SHA,
    });
    let edited: Record<string, unknown> = {};
    const scope = nock(GITLAB)
      .get(projectPath("/merge_requests/7"))
      .reply(200, mr, JSON_HEADERS)
      .get(projectPath("/merge_requests/7/diffs"))
      .reply(
        200,
        [diffBody("slos/checkout.yml"), diffBody("rules/new.yml", { oldPath: "rules/old.yml" })],
        JSON_HEADERS,
      )
      .get(projectPath("/merge_requests/9"))
      .reply(404, NOT_FOUND, JSON_HEADERS)
      .post(projectPath("/merge_requests/7/notes"), { body: "analyzing…" })
      .reply(201, noteBody(301, "analyzing…", { type: "MergeRequest", iid: 7 }), JSON_HEADERS)
      .put(projectPath("/merge_requests/7/notes/301"), (b) => {
        edited = b;
        return true;
      })
      .reply(200, noteBody(301, "done", { type: "MergeRequest", iid: 7 }), JSON_HEADERS)
      .put(projectPath("/merge_requests/7/notes/999"))
      .reply(404, NOT_FOUND, JSON_HEADERS);
    const gl = host();
    expect(await gl.getChange("7")).toEqual({
      id: "7",
      branch: "slo-scout/checkout",
      url: mr.web_url,
      commit: SHA,
      files: ["rules/new.yml", "rules/old.yml", "slos/checkout.yml"],
      title: "t",
      body: "b",
    });
    expect(await gl.getChange("9")).toBeUndefined();
    expect(await gl.getChange("not-a-number")).toBeUndefined();
    const id = await gl.postComment("7", "analyzing…");
    expect(id).toBe("merge_request:7:301");
    await gl.editComment(id, "done");
    expect(edited).toEqual({ body: "done" });
    await expect(gl.editComment("merge_request:7:999", "x")).rejects.toMatchObject({
      code: "unknown-comment",
    });
    expect(scope.pendingMocks()).toEqual([]);
  });
});

describe("git-host opener", () => {
  it("opens the GitLab project of GITLAB_PROJECT (self-hosted GITLAB_HOST) and needs a token for it", async () => {
    const config = loadConfig(
      {
        GITLAB_HOST: "https://gitlab.internal.example:8443",
        GITLAB_TOKEN: "glpat-x",
        GITLAB_PROJECT: "acme/shop",
      },
      "/nonexistent.yml",
    );
    nock("https://gitlab.internal.example:8443")
      .get(`/api/v4/projects/${encodeURIComponent("acme/shop")}`)
      .reply(200, projectBody("main"), JSON_HEADERS)
      .get(
        `/api/v4/projects/${encodeURIComponent("acme/shop")}/repository/files/${encodeURIComponent("slos/a.yml")}`,
      )
      .query({ ref: "main" })
      .reply(200, fileBody("slos/a.yml", "x: 1\n"), JSON_HEADERS);
    const gl = await openGitHost(config);
    expect(await gl.readFile("slos/a.yml")).toBe("x: 1\n");

    const noToken = loadConfig({ GITLAB_PROJECT: "acme/shop" }, "/nonexistent.yml");
    await expect(openGitHost(noToken)).rejects.toBeInstanceOf(ConfigError);
    expect(() => loadConfig({ GITLAB_PROJECT: "../x" }, "/nonexistent.yml")).toThrow(/GITLAB_PROJECT/);
  });
});
