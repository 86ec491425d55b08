import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseGitLabEvent } from "../../../src/bot/gitlab/events.js";
import { gitlabTokenMatches } from "../../../src/bot/gitlab/webhook-token.js";

const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../fixtures/gitlab/${name}`, import.meta.url), "utf8"));

describe("GitLab webhook events", () => {
  it("reads a note on a merge request and on an issue from GitLab's documented Note Hook payloads", () => {
    const mr = fixture("note-hook-merge-request.json");
    mr.object_attributes.note = "/slo-scout analyze checkout";
    expect(parseGitLabEvent("Note Hook", mr)).toEqual({
      kind: "note",
      project: { id: 5, path: "gitlab-org/gitlab-test", defaultBranch: "master" },
      user: { id: 1, username: "root" },
      noteable: { kind: "merge_request", iid: 1 },
      noteId: 1244,
      text: "/slo-scout analyze checkout",
      url: "http://example.com/gitlab-org/gitlab-test/merge_requests/1#note_1244",
    });
    const issue = fixture("note-hook-issue.json");
    expect(parseGitLabEvent("Note Hook", issue)).toMatchObject({
      noteable: { kind: "issue", iid: 17 },
      noteId: 1241,
      text: "Hello world",
    });
  });

  it("ignores edited notes, system notes, notes on commits and payloads of another shape", () => {
    const edited = fixture("note-hook-merge-request.json");
    edited.object_attributes.action = "update";
    const system = fixture("note-hook-merge-request.json");
    system.object_attributes.system = true;
    const commit = fixture("note-hook-merge-request.json");
    commit.object_attributes.noteable_type = "Commit";
    delete commit.merge_request;
    for (const body of [edited, system, commit, { object_kind: "note" }, null, "x"])
      expect(parseGitLabEvent("Note Hook", body)).toBeUndefined();
    expect(parseGitLabEvent("Push Hook", fixture("note-hook-merge-request.json"))).toBeUndefined();
    // Before GitLab 16.11 a note carried no action: it is a new one.
    const old = fixture("note-hook-issue.json");
    delete old.object_attributes.action;
    expect(parseGitLabEvent("Note Hook", old)).toMatchObject({ noteId: 1241 });
  });

  it("reads a merge request opened, given new commits, merged or closed, and nothing else", () => {
    const opened = fixture("merge-request-hook.json");
    expect(parseGitLabEvent("Merge Request Hook", opened)).toEqual({
      kind: "merge_request",
      project: { id: 1, path: "gitlabhq/gitlab-test", defaultBranch: "master" },
      iid: 1,
      headSha: "da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
      sourceBranch: "ms-viewport",
      targetBranch: "master",
      url: "http://example.com/diaspora/merge_requests/1",
    });
    const relabelled = fixture("merge-request-hook.json");
    relabelled.object_attributes.action = "update";
    expect(parseGitLabEvent("Merge Request Hook", relabelled)).toBeUndefined();
    const pushed = fixture("merge-request-hook.json");
    pushed.object_attributes.action = "update";
    pushed.object_attributes.oldrev = "95790bf891e76fee5e1747ab589903a6a1f80f22";
    expect(parseGitLabEvent("Merge Request Hook", pushed)).toMatchObject({ iid: 1 });
    const approved = fixture("merge-request-hook.json");
    approved.object_attributes.action = "approved";
    expect(parseGitLabEvent("Merge Request Hook", approved)).toBeUndefined();
    const merged = fixture("merge-request-hook.json");
    merged.object_attributes.state = "merged";
    merged.object_attributes.action = "merge";
    expect(parseGitLabEvent("Merge Request Hook", merged)).toEqual({
      kind: "merge_request_closed",
      project: { id: 1, path: "gitlabhq/gitlab-test", defaultBranch: "master" },
      iid: 1,
      sourceBranch: "ms-viewport",
    });
  });

  it("matches the webhook token exactly, whatever its length", () => {
    expect(gitlabTokenMatches("s3cret-token-of-some-length", "s3cret-token-of-some-length")).toBe(true);
    for (const bad of [
      "s3cret-token-of-some-lengtH",
      "s3cret",
      "",
      undefined,
      ["s3cret-token-of-some-length"],
    ])
      expect(gitlabTokenMatches("s3cret-token-of-some-length", bad)).toBe(false);
  });
});
