import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import nock from "nock";
import pino from "pino";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { buildChangeSet } from "../../../src/app/change-set.js";
import type { AppContext } from "../../../src/app/context.js";
import { specPeriod } from "../../../src/app/review.js";
import { gitlabWebhooks } from "../../../src/bot/gitlab/webhooks.js";
import { ConfigSchema } from "../../../src/config.js";
import { buildServer } from "../../../src/server/app.js";
import { getChangeLock } from "../../../src/store/repos/change-locks.js";
import { getProposal } from "../../../src/store/repos/proposals.js";
import { FIXTURES, ROOT } from "../../generators/helpers.js";
import { type BotServer, startBotServer } from "../../helpers/bot-server.js";
import {
  awardBody,
  BRANCH_NOT_FOUND,
  commitBody,
  diffBody,
  FILE_NOT_FOUND,
  fileBody,
  JSON_HEADERS,
  memberBody,
  mergeRequestBody,
  noteBody,
} from "../../helpers/gitlab-api.js";
import {
  availability,
  CHECKOUT_ARTIFACTS,
  latency,
  openProposals,
} from "../../helpers/recorded-proposals.js";

/**
 * The GitLab face end to end: GitLab's documented Note Hook payloads (test/fixtures/gitlab) posted over
 * real HTTP to the server with the webhook route mounted, and every GitLab API call it makes answered by
 * nock (no other network: an unmocked call fails the step that made it).
 */

const GITLAB = "https://gitlab.example.com";
const SECRET = "a-webhook-secret-of-reasonable-length";
/** The fixtures' project: id 5, gitlab-org/gitlab-test, default branch master; the MR is !1. */
const P = "/api/v4/projects/5";
const MR_NOTES = `${P}/merge_requests/1/notes`;
const BOT = { id: 99, username: "slo-scout-bot" };
const ROOTUSER = { id: 1, username: "root", name: "Administrator" };

/** A webhook payload, with the parts tests change. */
interface HookBody {
  object_attributes: Record<string, unknown>;
  user: Record<string, unknown>;
  [key: string]: unknown;
}
/** A request body GitLab's API received. */
type Sent = Record<string, unknown>;

const fixture = (name: string) =>
  JSON.parse(readFileSync(join(ROOT, "test/fixtures/gitlab", name), "utf8")) as HookBody;

/** The documented "Comment on a merge request" payload with another note id and text. */
function mrNote(id: number, text: string, user = ROOTUSER) {
  const body = fixture("note-hook-merge-request.json");
  body.object_attributes.id = id;
  body.object_attributes.note = text;
  body.object_attributes.url = `http://example.com/gitlab-org/gitlab-test/merge_requests/1#note_${id}`;
  body.user = { ...body.user, ...user };
  body.object_attributes.author_id = user.id;
  return body;
}

/** Resolves with the first request body an interceptor captures, or fails after `ms`. */
function capture(): { body: Promise<Sent>; take: (b: Sent) => boolean } {
  let resolve!: (b: Sent) => void;
  const body = new Promise<Sent>((r) => {
    resolve = r;
  });
  return {
    body,
    take: (b) => {
      resolve(b);
      return true;
    },
  };
}

const within = <T>(p: Promise<T>, ms: number, what: string) =>
  Promise.race([
    p,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms)),
  ]);

describe("GitLab webhooks", { timeout: 120_000 }, () => {
  let dir: string;
  let bot: BotServer;
  let app: AppContext;
  let url: string;

  const post = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-gitlab-event": "Note Hook",
        "x-gitlab-token": SECRET,
        ...headers,
      },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "slo-scout-gitlab-"));
    bot = await startBotServer(
      {
        SLO_SCOUT_REPO: join(dir, "unused-local-repo"),
        GITLAB_HOST: GITLAB,
        GITLAB_TOKEN: "glpat-test-token",
        GITLAB_WEBHOOK_SECRET: SECRET,
      },
      [gitlabWebhooks],
    );
    app = bot.app;
    url = `${bot.base}/api/gitlab/webhooks`;
  });
  beforeEach(() => {
    nock.disableNetConnect();
    nock.enableNetConnect("127.0.0.1");
  });
  afterEach(() => {
    nock.cleanAll();
    nock.enableNetConnect();
  });
  afterAll(async () => {
    await bot?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers a bad or missing X-Gitlab-Token with 401 and does nothing", async () => {
    const gitlab = nock(GITLAB).get("/api/v4/user").reply(200, BOT, JSON_HEADERS);
    const note = mrNote(2001, "/slo-scout status");
    for (const headers of [{ "x-gitlab-token": "wrong" }, { "x-gitlab-token": "" }]) {
      const res = await post(note, headers);
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ error: { code: "unauthorized" } });
    }
    // Checked before the body is read: a malformed body without the token is a 401 too, not a 400.
    const malformed = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", "x-gitlab-event": "Note Hook" },
      body: "{not json",
    });
    expect(malformed.status).toBe(401);
    const { rows } = await app.sql.query("SELECT * FROM bot_deliveries");
    expect(rows).toEqual([]);
    expect(gitlab.isDone()).toBe(false);
  });

  it("walks the conversation: 👀 and a sticky note, the note edited with the proposals, a Developer's approve → one commit with every artifact, the merge request, the note edited with it", async () => {
    await openProposals(app.sql, [availability, latency]);

    // 1. "/slo-scout proposals checkout": 👀, a new sticky note saying it runs, then that note edited.
    const running = capture();
    const answered = capture();
    const gitlab = nock(GITLAB)
      .matchHeader("private-token", "glpat-test-token")
      .get("/api/v4/user")
      .reply(200, BOT, JSON_HEADERS)
      .post(`${MR_NOTES}/1301/award_emoji`, { name: "eyes" })
      .reply(201, awardBody(1, "eyes", { type: "Note", id: 1301 }), JSON_HEADERS)
      .get(MR_NOTES)
      .query(true)
      .reply(200, [noteBody(1244, "This MR needs work.", { type: "MergeRequest", iid: 1 })], JSON_HEADERS)
      .post(MR_NOTES, running.take)
      .reply(201, { ...noteBody(500, "…", { type: "MergeRequest", iid: 1 }), author: BOT }, JSON_HEADERS)
      .put(`${MR_NOTES}/500`, answered.take)
      .reply(200, { ...noteBody(500, "…", { type: "MergeRequest", iid: 1 }), author: BOT }, JSON_HEADERS);

    const first = await post(mrNote(1301, "Let's see what SLO-Scout has.\n/slo-scout proposals checkout"));
    expect(first.status).toBe(202);
    expect(await first.json()).toEqual({ duplicate: false, queued: 1 });
    const runningNote = (await within(running.body, 5_000, "sticky note")).body as string;
    expect(runningNote).toMatch(/^<!-- slo-scout:sticky:checkout -->\n/);
    expect(runningNote).toContain("proposals checkout");
    const proposalsNote = (await within(answered.body, 30_000, "edited note")).body as string;
    expect(proposalsNote).toMatch(/^<!-- slo-scout:sticky:checkout -->\n/);
    expect(proposalsNote).toContain(availability.id);
    expect(proposalsNote).toContain(latency.id);
    expect(gitlab.pendingMocks()).toEqual([]);

    // 2. "/slo-scout approve <id>" by a Developer: the same sticky note is found and edited twice, and
    //    the project gets one commit with every artifact and a merge request.
    const commit = capture();
    const mr = capture();
    const edits: string[] = [];
    const done = capture();
    const sticky = { ...noteBody(500, proposalsNote, { type: "MergeRequest", iid: 1 }), author: BOT };
    const quoting = { ...noteBody(501, proposalsNote, { type: "MergeRequest", iid: 1 }) };
    const approving = nock(GITLAB)
      .post(`${MR_NOTES}/1302/award_emoji`, { name: "eyes" })
      .reply(201, awardBody(2, "eyes", { type: "Note", id: 1302 }), JSON_HEADERS)
      .get(MR_NOTES)
      .query(true)
      .reply(
        200,
        [noteBody(1244, "This MR needs work.", { type: "MergeRequest", iid: 1 }), quoting, sticky],
        JSON_HEADERS,
      )
      .put(`${MR_NOTES}/500`, (b) => {
        edits.push(b.body);
        if (edits.length === 2) done.take(b);
        return true;
      })
      .times(2)
      .reply(200, sticky, JSON_HEADERS)
      .get(`${P}/members/all/1`)
      .reply(200, memberBody(ROOTUSER, 30), JSON_HEADERS)
      // The repository holds none of SLO-Scout's files yet: no policy, no spec, no rules.
      .get(/\/api\/v4\/projects\/5\/repository\/files\/[^/]+\?ref=master$/)
      .times(100)
      .reply(404, FILE_NOT_FOUND, JSON_HEADERS)
      .get(`${P}/merge_requests`)
      .query({ source_branch: "slo-scout/checkout", state: "opened" })
      .reply(200, [], JSON_HEADERS)
      .get(`${P}/repository/branches/${encodeURIComponent("slo-scout/checkout")}`)
      .reply(404, BRANCH_NOT_FOUND, JSON_HEADERS)
      .post(`${P}/repository/commits`, commit.take)
      .reply(201, commitBody("ed899a2f4b50b4370feeea94676502b42383c746", "SLOs for checkout"), JSON_HEADERS)
      .post(`${P}/merge_requests`, mr.take)
      .reply(
        201,
        mergeRequestBody({
          iid: 2,
          sourceBranch: "slo-scout/checkout",
          title: "SLOs for checkout",
          description: "b",
          sha: "ed899a2f4b50b4370feeea94676502b42383c746",
        }),
        JSON_HEADERS,
      );

    const second = await post(mrNote(1302, `/slo-scout approve ${availability.id}`));
    expect(second.status).toBe(202);
    const committed = await within(commit.body, 60_000, "commit");
    const opened = await within(mr.body, 5_000, "merge request");
    const final = (await within(done.body, 5_000, "final edit")).body as string;

    expect(committed.branch).toBe("slo-scout/checkout");
    expect(committed.start_branch).toBe("master");
    const paths = (committed.actions as { action: string; file_path: string }[])
      .map((a) => a.file_path)
      .sort();
    expect(paths).toEqual(expect.arrayContaining(CHECKOUT_ARTIFACTS));
    expect(paths.some((p) => p.startsWith("runbooks/checkout"))).toBe(true);
    expect((committed.actions as { action: string }[]).every((a) => a.action === "create")).toBe(true);
    expect(opened).toMatchObject({ source_branch: "slo-scout/checkout", target_branch: "master" });
    expect(opened.title).toBe(committed.commit_message);
    expect(opened.description).toContain("SLO-Scout approved 1 SLO for **checkout**");
    expect(opened.description).toContain(availability.id);
    expect(edits[0]).toContain("Running");
    expect(final).toMatch(/^<!-- slo-scout:sticky:checkout -->\n/);
    expect(final).toContain(`${GITLAB}/acme/shop/-/merge_requests/2`);
    expect(approving.pendingMocks().filter((m) => !m.includes("files"))).toEqual([]);
    expect((await getProposal(app.sql, availability.id))?.status).toBe("committed");
    expect(
      await getChangeLock(app.sql, { repository: "gitlab-org/gitlab-test", service: "checkout" }),
    ).toMatchObject({
      branch: "slo-scout/checkout",
    });

    // 3. The merge request merged: the service's change lock is released.
    const merged = fixture("merge-request-hook.json");
    merged.project = fixture("note-hook-merge-request.json").project;
    Object.assign(merged.object_attributes, {
      iid: 2,
      source_branch: "slo-scout/checkout",
      state: "merged",
      action: "merge",
    });
    const closing = await post(merged, { "x-gitlab-event": "Merge Request Hook" });
    expect(await closing.json()).toEqual({ released: ["checkout"] });
  });

  it("refuses an approval by a Reporter with the reason and a correlation id, and commits nothing", async () => {
    await openProposals(app.sql, [latency]);
    const answered = capture();
    const gitlab = nock(GITLAB)
      .get("/api/v4/user")
      .optionally()
      .reply(200, BOT, JSON_HEADERS)
      .post(`${MR_NOTES}/1401/award_emoji`)
      .reply(201, awardBody(3, "eyes", { type: "Note", id: 1401 }), JSON_HEADERS)
      .get(MR_NOTES)
      .query(true)
      .reply(200, [], JSON_HEADERS)
      .post(MR_NOTES)
      .reply(201, { ...noteBody(600, "…", { type: "MergeRequest", iid: 1 }), author: BOT }, JSON_HEADERS)
      .get(`${P}/members/all/4`)
      .reply(200, memberBody({ id: 4, username: "reporter", name: "Rita Reporter" }, 20), JSON_HEADERS)
      .put(`${MR_NOTES}/600`, answered.take)
      .reply(200, noteBody(600, "…", { type: "MergeRequest", iid: 1 }), JSON_HEADERS);

    const res = await post(
      mrNote(1401, `/slo-scout approve ${latency.id}`, {
        id: 4,
        username: "reporter",
        name: "Rita Reporter",
      }),
    );
    expect(res.status).toBe(202);
    const note = (await within(answered.body, 30_000, "refusal")).body as string;
    expect(note).toContain("## SLO-Scout: Not authorized");
    expect(note).toContain(
      "approve needs Developer access or more to gitlab-org/gitlab-test; `@reporter` has Reporter access",
    );
    expect(note).toMatch(/Correlation id: `[0-9a-f]{8}`/);
    expect(gitlab.pendingMocks()).toEqual([]);
    expect((await getProposal(app.sql, latency.id))?.status).toBe("proposed");
  });

  it("answers an approval while the project's policy is invalid with the file and the line at fault", async () => {
    await openProposals(app.sql, [latency]);
    const answered = capture();
    const policy = "approvers:\n  users: [root]\nmaxPagesPer28d: lots\n";
    const gitlab = nock(GITLAB)
      .get("/api/v4/user")
      .optionally()
      .reply(200, BOT, JSON_HEADERS)
      .post(`${MR_NOTES}/1451/award_emoji`)
      .reply(201, awardBody(5, "eyes", { type: "Note", id: 1451 }), JSON_HEADERS)
      .get(MR_NOTES)
      .query(true)
      .reply(200, [], JSON_HEADERS)
      .post(MR_NOTES)
      .reply(201, { ...noteBody(650, "…", { type: "MergeRequest", iid: 1 }), author: BOT }, JSON_HEADERS)
      .get(`${P}/members/all/1`)
      .reply(200, memberBody(ROOTUSER, 30), JSON_HEADERS)
      .get(`${P}/repository/files/${encodeURIComponent(".slo-scout/policy.yml")}`)
      .query({ ref: "master" })
      .reply(200, fileBody(".slo-scout/policy.yml", policy, "master"), JSON_HEADERS)
      .put(`${MR_NOTES}/650`, answered.take)
      .reply(200, noteBody(650, "…", { type: "MergeRequest", iid: 1 }), JSON_HEADERS);

    expect((await post(mrNote(1451, `/slo-scout approve ${latency.id}`))).status).toBe(202);
    const note = (await within(answered.body, 30_000, "refusal")).body as string;
    expect(note).toContain("## SLO-Scout: Repository configuration not valid");
    expect(note).toContain(".slo-scout/policy.yml line 3: maxPagesPer28d");
    expect(note).not.toContain("failed unexpectedly");
    expect(gitlab.pendingMocks()).toEqual([]);
    expect((await getProposal(app.sql, latency.id))?.status).toBe("proposed");
  });

  it("answers an unknown command with the help, on an issue too", async () => {
    const answered = capture();
    const ISSUE_NOTES = `${P}/issues/17/notes`;
    nock(GITLAB)
      .get("/api/v4/user")
      .optionally()
      .reply(200, BOT, JSON_HEADERS)
      .post(`${ISSUE_NOTES}/1501/award_emoji`, { name: "eyes" })
      .reply(201, awardBody(4, "eyes", { type: "Note", id: 1501 }), JSON_HEADERS)
      .get(ISSUE_NOTES)
      .query(true)
      .reply(200, [], JSON_HEADERS)
      .post(ISSUE_NOTES)
      .reply(201, { ...noteBody(700, "…", { type: "Issue", iid: 17 }), author: BOT }, JSON_HEADERS)
      .put(`${ISSUE_NOTES}/700`, answered.take)
      .reply(200, noteBody(700, "…", { type: "Issue", iid: 17 }), JSON_HEADERS);
    const note = fixture("note-hook-issue.json");
    note.object_attributes.id = 1501;
    note.object_attributes.note = "/slo-scout deploy checkout";
    expect((await post(note)).status).toBe(202);
    const reply = (await within(answered.body, 30_000, "help")).body as string;
    expect(reply).toMatch(/^<!-- slo-scout:sticky:general -->\n/);
    expect(reply).toContain("Unknown command \\`deploy\\`.");
    expect(reply).toContain("analyze \\<service\\>");
    expect(reply).toContain("approve \\<proposal-id\\>");
    expect(reply).toMatch(/Correlation id: `[0-9a-f]{8}`/);
  });

  it("starts nothing for a redelivered note, the bot's own notes, edits and notes without a command", async () => {
    const answered = capture();
    nock(GITLAB)
      .get("/api/v4/user")
      .optionally()
      .reply(200, BOT, JSON_HEADERS)
      .post(`${MR_NOTES}/1601/award_emoji`)
      .reply(201, awardBody(5, "eyes", { type: "Note", id: 1601 }), JSON_HEADERS)
      .get(MR_NOTES)
      .query(true)
      .reply(200, [], JSON_HEADERS)
      .post(MR_NOTES)
      .reply(201, { ...noteBody(800, "…", { type: "MergeRequest", iid: 1 }), author: BOT }, JSON_HEADERS)
      .put(`${MR_NOTES}/800`, answered.take)
      .reply(200, noteBody(800, "…", { type: "MergeRequest", iid: 1 }), JSON_HEADERS);
    const note = mrNote(1601, "/slo-scout status");
    expect(await (await post(note)).json()).toEqual({ duplicate: false, queued: 1 });
    await within(answered.body, 30_000, "status");

    // From here on no GitLab call is mocked: any call would fail the request or its job.
    nock.cleanAll();
    const again = await post(note, { "idempotency-key": "retry-of-the-same-delivery" });
    expect(again.status).toBe(202);
    expect(await again.json()).toEqual({ duplicate: true, queued: 0 });

    nock(GITLAB).get("/api/v4/user").optionally().reply(200, BOT, JSON_HEADERS);
    const own = mrNote(1602, "/slo-scout status", { id: BOT.id, username: BOT.username, name: "SLO-Scout" });
    const edited = mrNote(1603, "/slo-scout status");
    edited.object_attributes.action = "update";
    const chatter = mrNote(1604, "Looks good to me");
    for (const body of [own, edited, chatter])
      expect(await (await post(body)).json()).toEqual({ ignored: true });
    const { rows } = await app.sql.query<{ delivery_id: string }>(
      "SELECT delivery_id FROM bot_deliveries WHERE delivery_id LIKE 'note:5:16%'",
    );
    expect(rows.map((r) => r.delivery_id)).toEqual(["note:5:1601"]);
  });

  describe("merge requests that edit an SLO spec", () => {
    /** A spec as SLO-Scout writes it, and the rule files generated from it. */
    const spec = {
      path: "slos/checkout.yml",
      content: readFileSync(join(FIXTURES, "golden/from-proposals/checkout.yml"), "utf8"),
    };
    const generated = () => {
      const built = buildChangeSet("checkout", spec, { period: specPeriod(spec.content) });
      if (!built.ok) throw new Error(built.refusal.reason);
      return built.value.files.filter((f) => f.path === spec.path || f.path.startsWith("rules/"));
    };

    /** Mocks a merge request !iid whose head `sha` holds `files`; returns the statuses and the note sent. */
    function mergeRequestWith(iid: number, sha: string, files: { path: string; content: string }[]) {
      const statuses: Sent[] = [];
      const note = capture();
      const scope = nock(GITLAB)
        .get("/api/v4/user")
        .optionally()
        .reply(200, BOT, JSON_HEADERS)
        .get(`${P}/merge_requests/${iid}/diffs`)
        .query(true)
        .reply(
          200,
          files.map((f) => diffBody(f.path)),
          JSON_HEADERS,
        )
        .post(`${P}/statuses/${sha}`, (b) => {
          statuses.push(b);
          return true;
        })
        .times(2)
        .reply(201, { id: 1, sha, status: "running", name: "slo-scout/review" }, JSON_HEADERS)
        .get(/\/api\/v4\/projects\/5\/repository\/files\/[^/]+\?ref=master$/)
        .times(100)
        .reply(404, FILE_NOT_FOUND, JSON_HEADERS)
        .get(`${P}/merge_requests/${iid}/notes`)
        .query(true)
        .reply(200, [], JSON_HEADERS)
        .post(`${P}/merge_requests/${iid}/notes`, note.take)
        .reply(
          201,
          { ...noteBody(900 + iid, "…", { type: "MergeRequest", iid }), author: BOT },
          JSON_HEADERS,
        );
      for (const f of files)
        scope
          .get(`${P}/repository/files/${encodeURIComponent(f.path)}`)
          .query({ ref: sha })
          .reply(200, fileBody(f.path, f.content, sha), JSON_HEADERS);
      const hook = fixture("merge-request-hook.json");
      hook.project = fixture("note-hook-merge-request.json").project;
      Object.assign(hook.object_attributes, {
        iid,
        source_branch: "edit-slos",
        target_branch: "master",
        last_commit: { id: sha },
      });
      return { statuses, note: note.body, hook, scope };
    }

    it("passes a spec whose rules were regenerated: a success status and the review note with the blast radius", async () => {
      const sha = "1111111111111111111111111111111111111111";
      const mr = mergeRequestWith(3, sha, generated());
      const res = await post(mr.hook, { "x-gitlab-event": "Merge Request Hook" });
      expect(res.status).toBe(202);
      expect(await res.json()).toEqual({ duplicate: false });
      const note = (await within(mr.note, 60_000, "review note")).body as string;
      expect(note).toMatch(/^<!-- slo-scout:sticky:review -->\n## SLO-Scout review/);
      expect(note).toContain("Blast radius");
      expect(note).toContain("`checkout`");
      expect(mr.statuses.map((s) => [s.state, s.name])).toEqual([
        ["running", "slo-scout/review"],
        ["success", "slo-scout/review"],
      ]);
      expect(mr.scope.pendingMocks().filter((m) => !m.includes("files") && !m.includes("/user"))).toEqual([]);

      // The same head again (a redelivery, or an update without new commits) starts nothing.
      nock.cleanAll();
      const again = await post(mr.hook, { "x-gitlab-event": "Merge Request Hook" });
      expect(await again.json()).toEqual({ duplicate: true });
    });

    it("fails a hand-edited spec whose rules were not regenerated, naming the command that fixes it", async () => {
      const sha = "2222222222222222222222222222222222222222";
      const files = generated().map((f) =>
        f.path === spec.path
          ? { ...f, content: f.content.replace(/objective: 99(\.\d+)?/, "objective: 99.95") }
          : f,
      );
      const mr = mergeRequestWith(4, sha, files);
      expect((await post(mr.hook, { "x-gitlab-event": "Merge Request Hook" })).status).toBe(202);
      const note = (await within(mr.note, 60_000, "review note")).body as string;
      expect(note).toContain("stale");
      expect(note).toContain("slo-scout generate slos/checkout.yml --default-slo-period 28d -o rules");
      expect(mr.statuses.at(-1)).toMatchObject({ state: "failed", name: "slo-scout/review" });
    });
  });
});

describe("GitLab webhook configuration", () => {
  it("is not mounted without GITLAB_WEBHOOK_SECRET, and refuses to start with a secret but no token", async () => {
    const logger = pino({ level: "silent" });
    const off = await buildServer(
      { config: ConfigSchema.parse({ DATABASE_URL: "pglite://memory" }), logger },
      { plugins: [gitlabWebhooks] },
    );
    expect((await off.inject({ method: "POST", url: "/api/gitlab/webhooks", payload: {} })).statusCode).toBe(
      404,
    );
    await off.close();
    const config = ConfigSchema.parse({ DATABASE_URL: "pglite://memory", GITLAB_WEBHOOK_SECRET: SECRET });
    await expect(buildServer({ config, logger }, { plugins: [gitlabWebhooks] })).rejects.toThrow(
      /GITLAB_WEBHOOK_SECRET needs GITLAB_TOKEN/,
    );
  });
});
