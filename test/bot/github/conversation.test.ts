import nock from "nock";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { AppContext } from "../../../src/app/context.js";
import { githubRoutes } from "../../../src/bot/github/route.js";
import { getChangeLock } from "../../../src/store/repos/change-locks.js";
import { getProposal } from "../../../src/store/repos/proposals.js";
import { type BotServer, startBotServer } from "../../helpers/bot-server.js";
import { GH, nockNewPullRequest, REPO } from "../../helpers/github-pull-request.js";
import { availability, CHECKOUT_ARTIFACTS, openProposals } from "../../helpers/recorded-proposals.js";
import { deliver, example, privateKeyPem, SECRET } from "./helpers.js";

/**
 * The GitHub App over real HTTP: signed deliveries with @octokit/webhooks-examples payloads to the running
 * server, every GitHub API call answered by nock (no other network). Proposals come from `analyze checkout`
 * on the demo shop (the recorded fixture).
 */

/** A PR comment by a person, as GitHub delivers it. */
function prComment(body: string, login = "octocat", id = 9001) {
  const ev = example("issue_comment", "created");
  ev.comment.body = body;
  ev.comment.id = id;
  ev.comment.user = { ...ev.comment.user, login, type: "User" };
  ev.sender = { ...ev.sender, login, type: "User" };
  ev.issue.pull_request = {
    url: `${GH}${REPO}/pulls/1`,
    html_url: "https://github.com/Codertocat/Hello-World/pull/1",
    diff_url: "https://github.com/Codertocat/Hello-World/pull/1.diff",
    patch_url: "https://github.com/Codertocat/Hello-World/pull/1.patch",
  };
  return ev;
}

/** Resolves with the JSON body of the next PATCH of a comment. */
function nextEdit(): Promise<{ id: number; body: string }> {
  return new Promise((resolve) => {
    nock(GH)
      .patch(/\/repos\/Codertocat\/Hello-World\/issues\/comments\/\d+$/)
      .reply(200, (uri, body) => {
        const id = Number(uri.split("/").pop());
        resolve({ id, body: (body as { body: string }).body });
        return { id };
      });
  });
}

describe("GitHub App conversation", { timeout: 120_000 }, () => {
  let bot: BotServer;
  let app: AppContext;
  let base: string;
  const calls: string[] = [];

  beforeAll(async () => {
    bot = await startBotServer({ APP_ID: "1", PRIVATE_KEY: privateKeyPem, WEBHOOK_SECRET: SECRET }, [
      githubRoutes,
    ]);
    ({ app, base } = bot);
    nock.disableNetConnect();
    nock.enableNetConnect("127.0.0.1");
    nock.emitter.on("no match", (req: { method?: string; path?: string; hostname?: string }) => {
      if (req.hostname !== "127.0.0.1") calls.push(`UNMATCHED ${req.method} ${req.path}`);
    });
  });
  beforeEach(async () => {
    nock.cleanAll();
    calls.length = 0;
    await openProposals(app.sql);
    // What every delivery may need: an installation token, the repository, files the repository lacks.
    nock(GH)
      .persist()
      .post("/app/installations/1/access_tokens")
      .reply(201, { token: "ghs_test", expires_at: "2099-01-01T00:00:00Z", permissions: {} })
      .get(REPO)
      .reply(200, { default_branch: "main", full_name: "Codertocat/Hello-World" })
      .get(/\/contents\//)
      .query(true)
      .reply(404, { message: "Not Found" });
  });
  afterAll(async () => {
    nock.cleanAll();
    nock.enableNetConnect();
    await bot?.close();
  });

  it("refuses a delivery with a bad or missing signature with 401, and calls nothing", async () => {
    const payload = prComment("/slo-scout help");
    const bad = await deliver(base, "issue_comment", payload, { signature: "sha256=00" });
    expect(bad.status).toBe(401);
    const missing = await deliver(base, "issue_comment", payload, { signature: null });
    expect(missing.status).toBe(401);
    expect((await missing.json()).error.code).toBe("unauthorized");
    expect(calls).toEqual([]);
    expect(nock.pendingMocks()).toHaveLength(3);
  });

  it("reacts, writes a sticky 'running' comment, edits it with the reply, and ignores a redelivery", async () => {
    const reacted = nock(GH)
      .post(`${REPO}/issues/comments/9001/reactions`, { content: "eyes" })
      .reply(201, { id: 1, content: "eyes" });
    const listed = nock(GH).get(`${REPO}/issues/1/comments`).query(true).reply(200, []);
    let running = "";
    const posted = nock(GH)
      .post(`${REPO}/issues/1/comments`, (b: { body: string }) => {
        running = b.body;
        return true;
      })
      .reply(201, { id: 555 });
    const edited = nextEdit();
    const res = await deliver(base, "issue_comment", prComment("/slo-scout proposals checkout"), {
      id: "delivery-a",
    });
    expect(res.status).toBe(200);
    expect(reacted.isDone() && listed.isDone() && posted.isDone()).toBe(true);
    expect(running).toContain("<!-- slo-scout:sticky:checkout -->");
    expect(running).toContain("Running `proposals checkout` for @octocat");
    const edit = await edited;
    expect(edit.id).toBe(555);
    expect(edit.body).toContain("<!-- slo-scout:sticky:checkout -->");
    expect(edit.body).toContain(availability.id);

    const again = await deliver(base, "issue_comment", prComment("/slo-scout proposals checkout"), {
      id: "delivery-a",
    });
    expect(again.status).toBe(200);
    await new Promise((r) => setTimeout(r, 200));
    expect(calls).toEqual([]);
  });

  it("answers an unknown command with help, and ignores comments by bots and without a command", async () => {
    nock(GH).post(`${REPO}/issues/comments/9001/reactions`).reply(201, {});
    nock(GH)
      .get(`${REPO}/issues/1/comments`)
      .query(true)
      .reply(200, [{ id: 556, body: "<!-- slo-scout:sticky:general -->\nold", user: { type: "Bot" } }]);
    const running = nextEdit();
    await deliver(base, "issue_comment", prComment("/slo-scout anlyze checkout"));
    expect((await running).body).toContain("Running");
    const edit = await nextEdit();
    expect(edit.id).toBe(556);
    expect(edit.body).toContain("Not understood");
    expect(edit.body).toMatch(/did you mean/i);

    const bot = prComment("/slo-scout help");
    bot.sender.type = "Bot";
    expect((await deliver(base, "issue_comment", bot)).status).toBe(200);
    expect((await deliver(base, "issue_comment", prComment("LGTM, thanks"))).status).toBe(200);
    const edited = example("issue_comment", "edited");
    edited.comment.body = "/slo-scout help";
    expect((await deliver(base, "issue_comment", edited)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 200));
    expect(calls).toEqual([]);
  });

  it("refuses an approval by a reader, explained, and commits nothing", async () => {
    nock(GH).post(`${REPO}/issues/comments/9002/reactions`).reply(201, {});
    nock(GH).get(`${REPO}/issues/1/comments`).query(true).reply(200, []);
    nock(GH).post(`${REPO}/issues/1/comments`).reply(201, { id: 600 });
    nock(GH)
      .get(`${REPO}/collaborators/reader/permission`)
      .reply(200, { permission: "read", user: { login: "reader" } });
    const edit = nextEdit();
    await deliver(base, "issue_comment", prComment(`/slo-scout approve ${availability.id}`, "reader", 9002));
    const { body } = await edit;
    expect(body).toContain("Not authorized");
    expect(body).toContain("reader has read access to Codertocat/Hello-World");
    expect((await getProposal(app.sql, availability.id))?.status).toBe("proposed");
    expect(calls).toEqual([]);
  });

  it("reports an invalid .github/slo-scout.yml with its line, and runs nothing", async () => {
    nock.cleanAll();
    nock(GH)
      .persist()
      .post("/app/installations/1/access_tokens")
      .reply(201, { token: "ghs_test", expires_at: "2099-01-01T00:00:00Z" })
      .get(REPO)
      .reply(200, { default_branch: "main" });
    nock(GH)
      .get(/\/contents\/\.github(%2F|\/)slo-scout\.yml/)
      .query(true)
      .reply(200, "labels: [slo-scout]\npolicy:\n  maxPagesPer28d: lots\n", { "content-type": "text/plain" });
    nock(GH).post(`${REPO}/issues/comments/9001/reactions`, { content: "confused" }).reply(201, {});
    nock(GH).get(`${REPO}/issues/1/comments`).query(true).reply(200, []);
    let posted = "";
    nock(GH)
      .post(`${REPO}/issues/1/comments`, (b: { body: string }) => {
        posted = b.body;
        return true;
      })
      .reply(201, { id: 700 });
    expect((await deliver(base, "issue_comment", prComment("/slo-scout help"))).status).toBe(200);
    expect(posted).toContain(".github/slo-scout.yml` line 3: policy.maxPagesPer28d");
    expect(calls).toEqual([]);
  });

  it("approves by a writer: one createCommitOnBranch with every artifact, a pull request, a check; closing it frees the lock", async () => {
    nock(GH).post(`${REPO}/issues/comments/9003/reactions`).reply(201, {});
    nock(GH).get(`${REPO}/issues/1/comments`).query(true).reply(200, []);
    nock(GH).post(`${REPO}/issues/1/comments`).reply(201, { id: 800 });
    nock(GH).get(`${REPO}/collaborators/octocat/permission`).reply(200, { permission: "write" });
    const { sent, labelled } = nockNewPullRequest();
    nock(GH)
      .get(`${REPO}/git/ref/heads%2Fslo-scout%2Fcheckout`)
      .reply(200, { object: { sha: "b".repeat(40) } });
    const checked = new Promise<{ head_sha: string; conclusion: string; name: string }>((resolve) => {
      nock(GH)
        .post(`${REPO}/check-runs`)
        .reply(201, (_uri, b) => {
          resolve(b as { head_sha: string; conclusion: string; name: string });
          return { id: 1 };
        });
    });
    const edit = nextEdit();
    const res = await deliver(
      base,
      "issue_comment",
      prComment(`/slo-scout approve ${availability.id}`, "octocat", 9003),
    );
    expect(res.status).toBe(200);
    const { body } = await edit;
    expect(body).toContain("slo-scout/checkout");
    const check = await checked;
    expect(calls).toEqual([]);
    expect(sent.commits).toHaveLength(1);
    const paths = sent.commits[0]!.input.fileChanges.additions.map((a) => a.path).sort();
    expect(paths).toEqual(expect.arrayContaining(CHECKOUT_ARTIFACTS));
    expect(paths.some((p) => p.startsWith("runbooks/checkout/"))).toBe(true);
    expect(sent.commits[0]!.input.expectedHeadOid).toBe("a".repeat(40));
    expect(sent.pullBody).toContain("checkout");
    expect(labelled.isDone()).toBe(true);
    expect(check).toMatchObject({
      head_sha: "b".repeat(40),
      conclusion: "success",
      name: "SLO-Scout review",
    });
    expect(
      await getChangeLock(app.sql, { repository: "Codertocat/Hello-World", service: "checkout" }),
    ).toMatchObject({
      branch: "slo-scout/checkout",
    });
    expect((await getProposal(app.sql, availability.id))?.status).toBe("committed");

    const closed = example("pull_request", "closed");
    closed.pull_request.head.ref = "slo-scout/checkout";
    expect((await deliver(base, "pull_request", closed)).status).toBe(200);
    expect(
      await getChangeLock(app.sql, { repository: "Codertocat/Hello-World", service: "checkout" }),
    ).toBeUndefined();
  });
});
