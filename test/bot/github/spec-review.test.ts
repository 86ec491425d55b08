import nock from "nock";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildChangeSet } from "../../../src/app/change-set.js";
import { githubRoutes } from "../../../src/bot/github/route.js";
import { specFromProposals } from "../../../src/generators/spec/from-proposals.js";
import { type BotServer, startBotServer } from "../../helpers/bot-server.js";
import { GH, REPO } from "../../helpers/github-pull-request.js";
import { availability } from "../../helpers/recorded-proposals.js";
import { deliver, example, privateKeyPem, SECRET } from "./helpers.js";

/**
 * Spec pull requests reviewed like Atlantis plans: a `pull_request.opened` delivery (webhooks-examples
 * payload) for a pull request whose files nock serves; the review's Check Run and sticky comment are what
 * GitHub would receive.
 */

const HEAD = "c".repeat(40);
const BASE = "d".repeat(40);

const spec = specFromProposals("checkout", [availability]);
const built = buildChangeSet("checkout", spec, { period: availability.window });
if (!built.ok) throw new Error(built.refusal.reason);
const generated = built.value.files.filter((f) => f.path.startsWith("slos/") || f.path.startsWith("rules/"));

interface CheckRun {
  name: string;
  head_sha: string;
  conclusion: string;
  output: {
    title: string;
    summary: string;
    annotations: { path: string; start_line: number; message: string }[];
  };
}

describe("spec pull request review", { timeout: 120_000 }, () => {
  let bot: BotServer;
  let base: string;

  beforeAll(async () => {
    bot = await startBotServer({ APP_ID: "1", PRIVATE_KEY: privateKeyPem, WEBHOOK_SECRET: SECRET }, [
      githubRoutes,
    ]);
    base = bot.base;
    nock.disableNetConnect();
    nock.enableNetConnect("127.0.0.1");
  });
  afterAll(async () => {
    nock.cleanAll();
    nock.enableNetConnect();
    await bot?.close();
  });

  /** Serves the pull request's files at its head; everything else is absent. Resolves with the check and the comment. */
  function pullRequest(files: { path: string; content: string }[]) {
    nock.cleanAll();
    const at = new Map(files.map((f) => [f.path, f.content]));
    nock(GH)
      .persist()
      .post("/app/installations/1/access_tokens")
      .reply(201, { token: "ghs_test", expires_at: "2099-01-01T00:00:00Z" })
      .get(REPO)
      .reply(200, { default_branch: "main" })
      .get(/\/contents\//)
      .query(true)
      .reply((uri) => {
        const url = new URL(uri, GH);
        const path = decodeURIComponent(url.pathname.split("/contents/")[1]!);
        const content = url.searchParams.get("ref") === HEAD ? at.get(path) : undefined;
        return content === undefined
          ? [404, { message: "Not Found" }]
          : [200, content, { "content-type": "text/plain" }];
      });
    nock(GH)
      .get(`${REPO}/pulls/2`)
      .reply(200, {
        number: 2,
        html_url: "https://github.com/Codertocat/Hello-World/pull/2",
        head: { sha: HEAD, ref: "tighten-checkout" },
        base: { sha: BASE, ref: "main" },
      });
    nock(GH)
      .get(`${REPO}/pulls/2/files`)
      .query(true)
      .reply(
        200,
        files.map((f) => ({ filename: f.path, status: "modified" })),
      );
    const check = new Promise<CheckRun>((resolve) =>
      nock(GH)
        .post(`${REPO}/check-runs`)
        .reply(201, (_uri, body) => {
          resolve(body as CheckRun);
          return { id: 1 };
        }),
    );
    nock(GH).get(`${REPO}/issues/2/comments`).query(true).reply(200, []);
    const comment = new Promise<string>((resolve) =>
      nock(GH)
        .post(`${REPO}/issues/2/comments`)
        .reply(201, (_uri, body) => {
          resolve((body as { body: string }).body);
          return { id: 42 };
        }),
    );
    return { check, comment };
  }

  const opened = () => {
    const ev = example("pull_request", "opened");
    ev.sender.type = "User";
    return ev;
  };

  it("fails a spec with a broken objective, with an annotation on its line", async () => {
    const specFile = generated.find((f) => f.path === "slos/checkout.yml")!;
    const lines = specFile.content.split("\n");
    const at = lines.findIndex((l) => /^\s+objective:/.test(l));
    lines[at] = lines[at]!.replace(/objective:.*/, "objective: 150");
    const broken = generated.map((f) => (f === specFile ? { ...f, content: lines.join("\n") } : f));
    const { check, comment } = pullRequest(broken);
    expect((await deliver(base, "pull_request", opened())).status).toBe(200);
    const run = await check;
    expect(run).toMatchObject({ name: "SLO-Scout review", head_sha: HEAD, conclusion: "failure" });
    expect(run.output.annotations).toContainEqual(
      expect.objectContaining({ path: "slos/checkout.yml", start_line: at + 1 }),
    );
    expect(await comment).toContain("<!-- slo-scout:sticky:review -->");
  });

  it("passes a valid spec whose rules are current, and comments the blast radius", async () => {
    const { check, comment } = pullRequest(generated);
    expect((await deliver(base, "pull_request", opened())).status).toBe(200);
    const run = await check;
    expect(run.conclusion).toBe("success");
    expect(run.output.annotations).toEqual([]);
    const body = await comment;
    expect(body).toContain("Blast radius");
    expect(body).toContain("`checkout`");
  });

  it("fails a spec whose rules were not regenerated, naming the command that fixes it", async () => {
    const specFile = generated.find((f) => f.path === "slos/checkout.yml")!;
    const edited = specFile.content.replace(/objective: [\d.]+/, "objective: 99.5");
    const { check } = pullRequest(generated.map((f) => (f === specFile ? { ...f, content: edited } : f)));
    expect((await deliver(base, "pull_request", opened())).status).toBe(200);
    const run = await check;
    expect(run.conclusion).toBe("failure");
    expect(run.output.annotations.map((a) => a.message).join("\n")).toContain(
      "slo-scout generate slos/checkout.yml --default-slo-period",
    );
  });
});
