import nock from "nock";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AppContext } from "../../../src/app/context.js";
import { slackRoutes } from "../../../src/bot/slack/plugin.js";
import { ConfigError, ConfigSchema } from "../../../src/config.js";
import { changeRepository } from "../../../src/store/githost/open.js";
import { getChangeLock } from "../../../src/store/repos/change-locks.js";
import { getProposal } from "../../../src/store/repos/proposals.js";
import { type BotServer, startBotServer } from "../../helpers/bot-server.js";
import { GH, nockNewPullRequest, PULL_URL, REPO } from "../../helpers/github-pull-request.js";
import { availability, latency, openProposals } from "../../helpers/recorded-proposals.js";
import {
  buttonClick,
  SLACK_CHANNEL as CHANNEL,
  SLACK_SIGNING_SECRET as SECRET,
  signed,
  slashCommand,
  texts,
} from "../../helpers/slack-requests.js";
import { type SlackStandIn, startSlackStandIn } from "../../helpers/slack-stand-in.js";
import { privateKeyPem } from "../github/helpers.js";

/**
 * A Slack conversation whose approval opens a pull request on a GitHub repository
 * (`SLO_SCOUT_SLACK_REPO=github:<owner>/<repo>`): Slack's documented bodies, signed, over real HTTP to the
 * running server; Slack's Web API on a local stand-in; every GitHub call (the App's installation lookup,
 * its token, the repository's `.github/slo-scout.yml`, refs, the GraphQL commit, the pull request) answered
 * by nock, with no other network.
 */

const ALLOWED = "U0DANA"; // the repository's .github/slo-scout.yml lists this Slack user as an approver
const OUTSIDER = "U0EVE";

const VALID_REPO_CONFIG = `labels: [slo-scout]\npolicy:\n  approvers:\n    slackUserIds: [${ALLOWED}]\n`;

const baseConfig = {
  DATABASE_URL: "pglite://memory",
  LOG_LEVEL: "silent",
  SLACK_BOT_TOKEN: "xoxb-test-token",
  SLACK_SIGNING_SECRET: SECRET,
  SLO_SCOUT_SLACK_REPO: "github:Codertocat/Hello-World",
};

describe("Slack approvals into a GitHub repository", { timeout: 120_000 }, () => {
  let bot: BotServer;
  let app: AppContext;
  let slack: SlackStandIn;
  let base: string;
  const unmatched: string[] = [];
  const installationTokens: string[] = [];
  /** What the repository's `.github/slo-scout.yml` holds at the moment. */
  let repoConfig = VALID_REPO_CONFIG;

  const post = async (body: string) => {
    const res = await fetch(`${base}/slack/events`, { method: "POST", headers: signed(body), body });
    return res.status;
  };

  beforeAll(async () => {
    nock.disableNetConnect();
    nock.enableNetConnect("127.0.0.1");
    nock.emitter.on("no match", (req: { method?: string; path?: string; hostname?: string }) => {
      if (req.hostname !== "127.0.0.1") unmatched.push(`${req.method} ${req.path}`);
    });
    slack = await startSlackStandIn({ emails: { [ALLOWED]: "dana@example.com" } });
    bot = await startBotServer(
      {
        ...baseConfig,
        SLACK_API_URL: slack.apiUrl,
        APP_ID: "1",
        PRIVATE_KEY: privateKeyPem,
        WEBHOOK_SECRET: "test-webhook-secret",
      },
      [slackRoutes()],
      { prepare: (app) => openProposals(app.sql) },
    );
    ({ app, base } = bot);

    // The App finds its installation on the repository with its own JWT, then works with that installation's token.
    nock(GH)
      .get(`${REPO}/installation`)
      .matchHeader("authorization", /^bearer [\w-]+\.[\w-]+\.[\w-]+$/i)
      .reply(200, { id: 42, account: { login: "Codertocat" } });
    nock(GH)
      .persist()
      .post("/app/installations/42/access_tokens")
      .reply(201, () => {
        installationTokens.push("ghs_installation");
        return { token: "ghs_installation", expires_at: "2099-01-01T00:00:00Z", permissions: {} };
      })
      .get(REPO)
      .matchHeader("authorization", "token ghs_installation")
      .reply(200, { default_branch: "main", full_name: "Codertocat/Hello-World" })
      .get(/\/contents\/\.github(%2F|\/)slo-scout\.yml/)
      .query(true)
      .reply(200, () => repoConfig, { "content-type": "text/plain" })
      .get(/\/contents\//)
      .query(true)
      .reply(404, { message: "Not Found" });
  });

  afterAll(async () => {
    nock.cleanAll();
    nock.enableNetConnect();
    await bot?.close();
    await slack?.close();
  });

  it("walks command, proposals, an Approve by an approver, the pull request, its link in the thread", async () => {
    const from = slack.calls.length;
    expect(await post(slashCommand("proposals checkout", ALLOWED, slack.responseUrl("1")))).toBe(200);
    const answer = await slack.waitFor((c) => c.method === "chat.update", 30_000, from);
    expect(texts(answer)).toContain(availability.id);
    const messageTs = String(answer.args.ts);

    const { sent, pulled, labelled } = nockNewPullRequest();
    const commits = sent.commits;

    const at = slack.calls.length;
    expect(await post(buttonClick("slo_approve", availability.id, ALLOWED, messageTs))).toBe(200);
    const change = await slack.waitFor(
      (c) => c.method === "chat.update" && texts(c).includes(PULL_URL),
      90_000,
      at,
    );
    const running = slack.calls
      .slice(at)
      .find((c) => c.method === "chat.postMessage" && c.args.ts === undefined && c.args.thread_ts);
    expect(running?.args.thread_ts).toBe(messageTs);
    expect(change.args.channel).toBe(CHANNEL);
    expect(change.args.ts).not.toBe(messageTs);
    expect(unmatched).toEqual([]);
    expect(pulled.isDone() && labelled.isDone()).toBe(true);
    expect(commits).toHaveLength(1);
    const paths = commits[0]!.input.fileChanges.additions.map((a) => a.path);
    expect(paths).toEqual(
      expect.arrayContaining(["slos/checkout.yml", "rules/checkout.rules.yml", "dashboards/checkout.json"]),
    );
    expect(commits[0]!.input.expectedHeadOid).toBe("a".repeat(40));
    expect(installationTokens.length).toBeGreaterThan(0);
    expect((await getProposal(app.sql, availability.id))?.status).toBe("committed");
    // The lock is the one a pull request's approval of the same repository takes.
    expect(
      await getChangeLock(app.sql, { repository: "Codertocat/Hello-World", service: "checkout" }),
    ).toMatchObject({ branch: "slo-scout/checkout" });
  });

  it("refuses an Approve by someone the repository's .github/slo-scout.yml does not list", async () => {
    const from = slack.calls.length;
    expect(await post(buttonClick("slo_approve", latency.id, OUTSIDER, "1548261231.000200"))).toBe(200);
    const refusal = await slack.waitFor(
      (c) => c.method === "chat.update" && texts(c).includes("Not authorized"),
      30_000,
      from,
    );
    expect(texts(refusal)).toContain(OUTSIDER);
    expect((await getProposal(app.sql, latency.id))?.status).toBe("proposed");
    expect(unmatched).toEqual([]);
  });

  it("answers an Approve while .github/slo-scout.yml is invalid with the file and the line at fault", async () => {
    repoConfig = `${VALID_REPO_CONFIG}  maxPagesPer28d: lots\n`;
    try {
      const from = slack.calls.length;
      expect(await post(buttonClick("slo_approve", latency.id, ALLOWED, "1548261231.000300"))).toBe(200);
      const refusal = await slack.waitFor(
        (c) => c.method === "chat.update" && texts(c).includes("Repository configuration not valid"),
        30_000,
        from,
      );
      expect(texts(refusal)).toContain(
        "Codertocat/Hello-World: .github/slo-scout.yml line 5: policy.maxPagesPer28d",
      );
      expect(texts(refusal)).not.toContain("failed unexpectedly");
      expect((await getProposal(app.sql, latency.id))?.status).toBe("proposed");
      expect(unmatched).toEqual([]);
    } finally {
      repoConfig = VALID_REPO_CONFIG;
    }
  });
});

describe("SLO_SCOUT_SLACK_REPO=github:… without the GitHub App", () => {
  it("is refused where the Slack app starts, naming the keys to set", () => {
    const config = ConfigSchema.parse(baseConfig);
    const unused = {
      application: () => Promise.reject(new Error("unused")),
      github: () => Promise.reject(new Error("unused")),
    };
    const start = () => changeRepository(config.SLO_SCOUT_SLACK_REPO, config, unused);
    expect(start).toThrow(ConfigError);
    expect(start).toThrow(/github:Codertocat\/Hello-World .*set APP_ID and PRIVATE_KEY/);
    const withApp = ConfigSchema.parse({ ...baseConfig, APP_ID: "1", PRIVATE_KEY: privateKeyPem });
    expect(changeRepository(withApp.SLO_SCOUT_SLACK_REPO, withApp, unused)).toMatchObject({
      name: "Codertocat/Hello-World",
      local: false,
    });
  });
});
