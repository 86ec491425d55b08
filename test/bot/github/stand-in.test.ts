import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { FastifyInstance } from "fastify";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AppContext, openApp } from "../../../src/app/context.js";
import { githubRoutes } from "../../../src/bot/github/route.js";
import { ConfigSchema } from "../../../src/config.js";
import { validatePath } from "../../../src/generators/validate/index.js";
import { buildServer } from "../../../src/server/app.js";
import { getProposal } from "../../../src/store/repos/proposals.js";
import { storeSmallDemo } from "../../helpers/demo-store.js";
import { type GitHubStandIn, startGitHubStandIn } from "../../helpers/github-stand-in.js";
import { deliver, example, privateKeyPem, SECRET } from "./helpers.js";

/**
 * The GitHub App over real HTTP against a stateful stand-in for GitHub (test/helpers/github-stand-in.ts,
 * reached as GitHub Enterprise Server through GHE_HOST): signed @octokit/webhooks-examples deliveries, a live
 * `analyze checkout` on the small demo shop (traces of every service, checkout's metrics at the 5-minute step
 * a chat's analysis reads), refusals by the repository's policy, a first approval waiting for the second
 * approver the policy asks for, and the second approval, whose branch the stand-in then holds: one commit on
 * top of the default branch, with files that pass `slo-scout validate`.
 */

const ISSUE = 1;
let commentIds = 50_000;

/** A comment by a person on pull request #1, as GitHub delivers it. */
function prComment(body: string, login: string) {
  const ev = example("issue_comment", "created");
  ev.comment.body = body;
  ev.comment.id = commentIds++;
  ev.comment.user = { ...ev.comment.user, login, type: "User" };
  ev.sender = { ...ev.sender, login, type: "User" };
  ev.issue.number = ISSUE;
  ev.issue.pull_request = {
    url: "https://api.github.com/repos/Codertocat/Hello-World/pulls/1",
    html_url: "https://github.com/Codertocat/Hello-World/pull/1",
    diff_url: "https://github.com/Codertocat/Hello-World/pull/1.diff",
    patch_url: "https://github.com/Codertocat/Hello-World/pull/1.patch",
  };
  return ev;
}

describe("GitHub App against a stateful GitHub stand-in", { timeout: 180_000 }, () => {
  let gh: GitHubStandIn;
  let app: AppContext;
  let server: FastifyInstance;
  let base: string;
  let dir: string;
  let ids: string[] = [];

  /** The bot's sticky comment about checkout on the pull request. */
  const sticky = () =>
    gh.comments.filter((c) => c.issue === ISSUE && c.body.includes("<!-- slo-scout:sticky:checkout -->"));

  /** Delivers a comment and waits until the sticky comment has been edited past `edits` with a final reply. */
  async function converse(body: string, login: string): Promise<string> {
    const before = sticky()[0]?.edits.length ?? -1;
    const payload = prComment(body, login);
    const res = await deliver(base, "issue_comment", payload);
    expect(res.status).toBe(200);
    expect(gh.reactions).toContainEqual({ commentId: payload.comment.id, content: "eyes" });
    await gh.until(() => {
      const c = sticky()[0];
      return c !== undefined && c.edits.length > before + 1 && !c.body.includes("⏳ Running");
    });
    return sticky()[0]!.body;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "slo-scout-gh-stand-in-"));
    gh = await startGitHubStandIn();
    const config = ConfigSchema.parse({
      DATABASE_URL: "pglite://memory",
      DATA_DIR: dir,
      APP_ID: "1",
      PRIVATE_KEY: privateKeyPem,
      WEBHOOK_SECRET: SECRET,
      GHE_HOST: gh.host,
      GHE_PROTOCOL: "http",
      LOG_LEVEL: "silent",
    });
    const logger = pino({ level: process.env.TEST_LOG ?? "silent" });
    app = await openApp(config, { logger });
    await storeSmallDemo(app.sql, join(dir, "blobs"), 8, {
      without: ["log", "rum"],
      stepSeconds: 300,
      keep: (e) => e.kind !== "metric" || e.service === "checkout",
    });
    server = await buildServer(
      { config, logger, sql: app.sql, queue: await app.queue(), app },
      { plugins: [githubRoutes] },
    );
    await server.listen({ host: "127.0.0.1", port: 0 });
    base = `http://127.0.0.1:${(server.server.address() as { port: number }).port}`;
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    await app?.close();
    await gh?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("analyze: 👀, then one sticky comment edited in place with the proposals and the mermaid journey graph", async () => {
    const body = await converse("/slo-scout analyze checkout", "octocat");
    expect(sticky()).toHaveLength(1);
    expect(sticky()[0]!.edits[0]).toContain("Running `analyze checkout` for @octocat");
    expect(body).toContain("SLO-Scout analysis of `checkout`");
    expect(body).toMatch(/```mermaid\nflowchart LR\n/);
    expect(body).toContain("### Proposals");
    ids = [...new Set(body.match(/prop-[0-9a-f]{12}/g) ?? [])];
    expect(ids.length).toBeGreaterThanOrEqual(2);
    for (const id of ids) expect((await getProposal(app.sql, id))?.service).toBe("checkout");
  });

  /** Nothing was written towards a change: no branch, no commit, no pull request. */
  function nothingCommitted(mainBefore: string) {
    expect([...gh.branches.keys()]).toEqual(["main"]);
    expect(gh.branches.get("main")).toBe(mainBefore);
    expect(gh.calls.filter((c) => c.path === "/api/graphql")).toEqual([]);
    expect(gh.pulls).toEqual([]);
  }

  it("refuses a writer the repository's policy does not list as an approver, explained, and commits nothing", async () => {
    gh.permissions.set("octocat", "write");
    const main = gh.push(
      "main",
      { ".github/slo-scout.yml": "services: [checkout]\npolicy:\n  approvers:\n    users: [alice, bob]\n" },
      "SLO-Scout: only alice and bob approve",
    );
    const body = await converse(`/slo-scout approve ${ids.join(" ")}`, "octocat");
    expect(body).toContain("Not authorized");
    expect(body).toContain("octocat may not approve under .github/slo-scout.yml");
    expect(body).toContain("octocat is not an allowed approver under the policy");
    expect(body).toMatch(/Correlation id: `[0-9a-f]{8}`/);
    nothingCommitted(main);
    for (const id of ids) expect((await getProposal(app.sql, id))?.status).toBe("proposed");
  });

  it("refuses an approval whose artifacts break the policy's allowed paths, naming the files, and commits nothing", async () => {
    const main = gh.push(
      "main",
      { ".github/slo-scout.yml": 'policy:\n  allowedPaths: ["slos/**"]\n' },
      "SLO-Scout: specs only",
    );
    const body = await converse(`/slo-scout approve ${ids.join(" ")}`, "octocat");
    expect(body).toContain("Refused by policy");
    expect(body).toContain(".github/slo-scout.yml refuses the change for checkout; nothing was committed");
    expect(body).toContain(
      "\\[allowed-paths\\] rules/checkout.rules.yml is outside the allowed artifact paths (slos/\\*\\*)",
    );
    nothingCommitted(main);
    for (const id of ids) expect((await getProposal(app.sql, id))?.status).toBe("proposed");
  });

  it("records a writer's approval and waits when the policy asks for a second approver; the same writer again does not count", async () => {
    const main = gh.push(
      "main",
      { ".github/slo-scout.yml": "policy:\n  requireSecondApprover: true\n" },
      "SLO-Scout: two approvers",
    );
    const first = await converse(`/slo-scout approve ${ids.join(" ")}`, "octocat");
    expect(first).toContain("Waiting for a second approver");
    expect(first).toContain("1 of 2 approvals: waiting for another approver");
    expect(first).toContain("octocat approved");
    const again = await converse(`/slo-scout approve ${ids.join(" ")}`, "octocat");
    expect(again).toContain("1 of 2 approvals: waiting for another approver");
    nothingCommitted(main);
    for (const id of ids) expect((await getProposal(app.sql, id))?.status).toBe("proposed");
  });

  it("approve by a second writer: branch slo-scout/checkout with one commit on main holding files that pass validate, and the pull request", async () => {
    gh.permissions.set("hubot", "write");
    const main = gh.branches.get("main")!;
    const body = await converse(`/slo-scout approve ${ids.join(" ")}`, "hubot");
    expect(body).toContain("SLO-Scout change");
    expect(body).toContain("### Blast radius");
    expect(sticky()).toHaveLength(1);

    const head = gh.branches.get("slo-scout/checkout");
    expect(head).toBeDefined();
    expect(gh.commits.get(head!)!.parents).toEqual([main]);
    expect(gh.calls.filter((c) => c.path === "/api/graphql")).toHaveLength(1);
    const files = gh.diff(head!);
    const paths = [...files.keys()].sort();
    expect(paths).toEqual(
      expect.arrayContaining([
        "slos/checkout.yml",
        "rules/checkout.rules.yml",
        "rules/checkout.rules.test.yml",
        "dashboards/checkout.json",
      ]),
    );
    expect(paths.some((p) => /^runbooks\/checkout\/.+\.md$/.test(p))).toBe(true);

    const out = join(dir, "checkout-branch");
    for (const [path, content] of files) {
      mkdirSync(dirname(join(out, path)), { recursive: true });
      writeFileSync(join(out, path), content!);
    }
    const report = await validatePath(out);
    expect(report.messages).toEqual([]);
    expect(report.ok).toBe(true);
    expect(Object.keys(report.checked).length).toBeGreaterThanOrEqual(2);

    expect(gh.pulls).toHaveLength(1);
    const pr = gh.pulls[0]!;
    expect(pr).toMatchObject({
      state: "open",
      head: "slo-scout/checkout",
      base: "main",
      labels: ["slo-scout"],
    });
    expect(pr.body).toContain("### What changes");
    expect(pr.body).toContain("### Blast radius");
    expect(pr.body).toContain("### Validation");
    expect(pr.body).toContain("approved by `github:hubot`");
    expect(body).toContain(`/pull/${pr.number}`);
    await gh.until(() => gh.checkRuns.length > 0);
    expect(gh.checkRuns[0]).toMatchObject({
      head_sha: head,
      conclusion: "success",
      name: "SLO-Scout review",
    });
    for (const id of ids) expect((await getProposal(app.sql, id))?.status).toBe("committed");
  });
});
