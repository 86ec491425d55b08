import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import type { AppContext } from "../../../src/app/context.js";
import { slackRoutes } from "../../../src/bot/slack/plugin.js";
import type { Sql } from "../../../src/store/ports.js";
import { getProposal } from "../../../src/store/repos/proposals.js";
import { ROOT } from "../../generators/helpers.js";
import { type BotServer, startBotServer } from "../../helpers/bot-server.js";
import { availability, latency, openProposals } from "../../helpers/recorded-proposals.js";
import {
  buttonClick,
  SLACK_CHANNEL as CHANNEL,
  SLACK_SIGNING_SECRET as SECRET,
  signed,
  slashCommand,
  submission,
  texts,
  trigger,
} from "../../helpers/slack-requests.js";
import { type SlackCall, type SlackStandIn, startSlackStandIn } from "../../helpers/slack-stand-in.js";

/**
 * The Slack app over real HTTP on the running server: Slack's documented slash-command and interaction
 * bodies, signed with a test secret, posted to /slack/events; Slack's Web API and the response URLs are a
 * local stand-in (SLACK_API_URL). Proposals are the ones `analyze checkout` recorded on the demo shop.
 */

const ALLOWED = "U0DANA"; // listed in the policy by e-mail, matched through users.info
const OUTSIDER = "U0EVE";
const PRIVATE = "G0PRIVATE"; // a channel the bot was not invited to

const buttonsOf = (c: SlackCall) =>
  (c.args.blocks as { type: string; elements?: { action_id: string; value: string }[] }[]).flatMap((b) =>
    b.type === "actions" ? (b.elements ?? []) : [],
  );

describe("Slack over HTTP", { timeout: 120_000 }, () => {
  let dir: string;
  let repo: string;
  let bot: BotServer;
  let app: AppContext;
  let slack: SlackStandIn;
  let base: string;
  /** Arms a 3.5 s pause on the next read of the conversation's own data (the analysis). */
  let slowNext = false;
  /** Makes the next read of the conversation's own data fail, as a database outage would. */
  let failNext = false;
  /** Makes the next delivery claim fail, as a database outage right after the ack would. */
  let failClaim = false;
  const git = (...args: string[]) => execFileSync("git", ["-C", repo, ...args], { encoding: "utf8" });

  const post = async (body: string, headers: Record<string, string>) => {
    const started = performance.now();
    const res = await fetch(`${base}/slack/events`, { method: "POST", headers, body });
    return { status: res.status, text: await res.text(), ms: performance.now() - started };
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "slo-scout-slack-"));
    repo = join(dir, "repo");
    mkdirSync(join(repo, ".slo-scout"), { recursive: true });
    git("init", "-q", "-b", "main");
    writeFileSync(join(repo, ".slo-scout/policy.yml"), "approvers:\n  users: [dana@example.com]\n");
    git("add", ".");
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "policy");
    slack = await startSlackStandIn({
      emails: { [ALLOWED]: "Dana@example.com", [OUTSIDER]: "eve@example.com" },
      notInChannels: [PRIVATE],
    });
    bot = await startBotServer(
      {
        SLO_SCOUT_REPO: repo,
        SLACK_BOT_TOKEN: "xoxb-test-token",
        SLACK_SIGNING_SECRET: SECRET,
        SLACK_API_URL: slack.apiUrl,
      },
      [slackRoutes()],
      {
        prepare: (opened) => openProposals(opened.sql, [availability, latency]),
        serve: (opened) => {
          const real = opened.sql;
          const sql: Sql = {
            engine: real.engine,
            async query(text, params) {
              if (failClaim && /bot_deliveries/.test(text)) {
                failClaim = false;
                throw new Error("connection terminated unexpectedly");
              }
              if (failNext && !/bot_deliveries|change_locks/.test(text)) {
                failNext = false;
                throw new Error("connection terminated unexpectedly");
              }
              if (slowNext && !/bot_deliveries|change_locks/.test(text)) {
                slowNext = false;
                await new Promise((resolve) => setTimeout(resolve, 3500));
              }
              return real.query(text, params);
            },
            exec: (text) => real.exec(text),
            transaction: (fn) => real.transaction(fn),
            close: async () => {},
          };
          return { ...opened, sql };
        },
      },
    );
    ({ app, base } = bot);
  });

  afterAll(async () => {
    // Every Web API method the bot called is one the manifest's scopes allow (scopes from Slack's method docs).
    const manifest = parseYaml(readFileSync(join(ROOT, "slack-app.yml"), "utf8"));
    const scopes: string[] = manifest.oauth_config.scopes.bot;
    const needs: Record<string, string[]> = {
      "auth.test": [],
      "chat.postMessage": ["chat:write"],
      "chat.update": ["chat:write"],
      "chat.postEphemeral": ["chat:write"],
      "views.open": [],
      "users.info": ["users:read", "users:read.email"],
    };
    for (const method of new Set(
      slack?.calls.map((c) => c.method).filter((m) => !m.startsWith("response:")),
    )) {
      expect(needs[method], `${method} is not in the scope table`).toBeDefined();
      for (const scope of needs[method]!) expect(scopes).toContain(scope);
    }
    expect(manifest.features.slash_commands[0]).toMatchObject({ command: "/slo-scout" });
    expect(manifest.features.slash_commands[0].url).toMatch(/\/slack\/events$/);
    expect(manifest.settings.interactivity.request_url).toMatch(/\/slack\/events$/);
    await bot?.close();
    await slack?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("walks the conversation: command, proposals with buttons, Approve, the change's link in the thread", async () => {
    const from = slack.calls.length;
    const body = slashCommand("proposals checkout", ALLOWED, slack.responseUrl("1"));
    const ack = await post(body, signed(body));
    expect(ack).toMatchObject({ status: 200, text: "" });
    expect(ack.ms).toBeLessThan(3000);

    const running = await slack.waitFor((c) => c.method === "chat.postMessage", 30_000, from);
    expect(running.args).toMatchObject({ channel: CHANNEL });
    expect(texts(running)).toContain("proposals checkout");
    const answer = await slack.waitFor((c) => c.method === "chat.update", 30_000, from);
    expect(answer.args.ts).toBe(running.args.ts ?? answer.args.ts);
    const buttons = buttonsOf(answer);
    expect(buttons.filter((b) => b.action_id === "slo_approve").map((b) => b.value)).toEqual(
      expect.arrayContaining([availability.id, latency.id]),
    );
    // A button carries the proposal id and nothing else.
    for (const b of buttons) expect(b.value).toMatch(/^prop-[0-9a-f]{12}$/);
    const messageTs = String(answer.args.ts);

    const at = slack.calls.length;
    const click = buttonClick("slo_approve", availability.id, ALLOWED, messageTs);
    const clicked = await post(click, signed(click));
    expect(clicked).toMatchObject({ status: 200 });
    expect(clicked.ms).toBeLessThan(3000);
    const threadReply = await slack.waitFor(
      (c) => c.method === "chat.postMessage" && c.args.thread_ts === messageTs,
      30_000,
      at,
    );
    const change = await slack.waitFor(
      (c) => c.method === "chat.update" && c.args.ts !== messageTs && texts(c).includes("Change opened"),
      90_000,
      at,
    );
    expect(change.args.channel).toBe(CHANNEL);
    expect(slack.calls.slice(at).some((c) => c.method === "users.info" && c.args.user === ALLOWED)).toBe(
      true,
    );
    expect(threadReply.args.thread_ts).toBe(messageTs);
    expect(texts(change)).toContain("slo-scout/checkout");
    expect(git("rev-list", "--count", "main..slo-scout/checkout").trim()).toBe("1");
    expect(git("show", "--name-only", "--format=", "slo-scout/checkout")).toContain("slos/checkout.yml");
    expect((await getProposal(app.sql, availability.id))?.status).toBe("committed");
  });

  it("refuses a bad signature and a timestamp outside the 5-minute window with 401, starting nothing", async () => {
    const from = slack.calls.length;
    const body = slashCommand("status", ALLOWED, slack.responseUrl("2"));
    expect((await post(body, signed(body, Date.now(), "not-the-secret"))).status).toBe(401);
    expect((await post(body, signed(body, Date.now() - 301_000))).status).toBe(401);
    expect((await post(body, signed(body, Date.now() + 301_000))).status).toBe(401);
    const { "x-slack-signature": _, ...unsigned } = signed(body);
    expect((await post(body, unsigned)).status).toBe(401);
    const tampered = body.replace("status", "approve+all");
    expect((await post(tampered, signed(body))).status).toBe(401);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(slack.calls.slice(from)).toEqual([]);
  });

  it("answers an Approve from someone the policy does not list with the reason, and writes nothing", async () => {
    const before = git("rev-parse", "slo-scout/checkout");
    const from = slack.calls.length;
    const click = buttonClick("slo_approve", latency.id, OUTSIDER, "1548261231.000200");
    expect((await post(click, signed(click))).status).toBe(200);
    const refusal = await slack.waitFor(
      (c) => c.method === "chat.update" && texts(c).includes("Not authorized"),
      30_000,
      from,
    );
    expect(texts(refusal)).toContain(`${OUTSIDER} may not approve`);
    expect(git("rev-parse", "slo-scout/checkout")).toBe(before);
    expect((await getProposal(app.sql, latency.id))?.status).toBe("proposed");
  });

  it("starts no second job for a retried request (X-Slack-Retry-Num)", async () => {
    const body = slashCommand("help", ALLOWED, slack.responseUrl("3"));
    const from = slack.calls.length;
    expect((await post(body, signed(body))).status).toBe(200);
    await slack.waitFor((c) => c.method === "chat.update", 30_000, from);
    const after = slack.calls.length;
    const retried = await post(body, {
      ...signed(body),
      "x-slack-retry-num": "1",
      "x-slack-retry-reason": "http_timeout",
    });
    expect(retried.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(slack.calls.slice(after).filter((c) => c.method.startsWith("chat."))).toEqual([]);
  });

  it("opens the Simulate and Reject modals and answers their submissions in the thread", async () => {
    const ts = "1548261231.000300";
    let from = slack.calls.length;
    const simulate = buttonClick("slo_simulate", latency.id, ALLOWED, ts);
    expect((await post(simulate, signed(simulate))).status).toBe(200);
    const opened = await slack.waitFor((c) => c.method === "views.open", 30_000, from);
    const view = opened.args.view as Record<string, unknown>;
    expect(view).toMatchObject({ callback_id: "slo_simulate_modal" });
    expect(JSON.stringify(view)).toContain(`"initial_value":"${latency.target.recommended}"`);

    const bad = submission(view, { target: "lots" }, ALLOWED);
    const refused = await post(bad, signed(bad));
    expect(JSON.parse(refused.text)).toMatchObject({
      response_action: "errors",
      errors: { target: expect.any(String) },
    });

    from = slack.calls.length;
    const good = submission(view, { target: "99.5" }, ALLOWED);
    expect((await post(good, signed(good))).status).toBe(200);
    const inThread = await slack.waitFor(
      (c) => c.method === "chat.postMessage" && c.args.thread_ts === ts,
      30_000,
      from,
    );
    expect(texts(inThread)).toContain(`simulate ${latency.id} --target 99.5`);
    await slack.waitFor((c) => c.method === "chat.update" && c.args.ts !== undefined, 30_000, from);

    from = slack.calls.length;
    const reject = buttonClick("slo_reject", latency.id, ALLOWED, ts);
    expect((await post(reject, signed(reject))).status).toBe(200);
    const rejectView = (await slack.waitFor((c) => c.method === "views.open", 30_000, from)).args
      .view as Record<string, unknown>;
    expect(rejectView).toMatchObject({ callback_id: "slo_reject_modal" });
    from = slack.calls.length;
    const reason = submission(rejectView, { reason: "too noisy for now" }, ALLOWED);
    expect((await post(reason, signed(reason))).status).toBe(200);
    await slack.waitFor((c) => c.method === "chat.update" && texts(c).includes("rejected"), 30_000, from);
    expect((await getProposal(app.sql, latency.id))?.status).toBe("rejected");
  });

  it("answers a failure with a short reason and a correlation id", async () => {
    const from = slack.calls.length;
    failNext = true;
    const body = slashCommand("proposals checkout", ALLOWED, slack.responseUrl("5"));
    expect((await post(body, signed(body))).status).toBe(200);
    const answer = await slack.waitFor((c) => c.method === "chat.update", 30_000, from);
    expect(texts(answer)).toContain("Something went wrong on our side");
    expect(String(answer.args.text)).toMatch(/correlation id [0-9a-f]{8}/);
  });

  it("answers a command acked but not taken in (its delivery claim failed) with a reason and a correlation id", async () => {
    const from = slack.calls.length;
    failClaim = true;
    const body = slashCommand("status", ALLOWED, slack.responseUrl("7"));
    expect((await post(body, signed(body))).status).toBe(200);
    const answer = await slack.waitFor((c) => c.method === "response:7", 30_000, from);
    expect(answer.args).toMatchObject({ response_type: "ephemeral" });
    expect(String(answer.args.text)).toMatch(/could not take this command \(correlation id [0-9a-f]{8}\)/);
  });

  it("answers on the command's response URL in a channel the bot may not post to", async () => {
    const from = slack.calls.length;
    const body = slashCommand("help", ALLOWED, slack.responseUrl("6"), trigger(), PRIVATE);
    expect((await post(body, signed(body))).status).toBe(200);
    const running = await slack.waitFor((c) => c.method === "response:6", 30_000, from);
    expect(running.args).toMatchObject({ response_type: "in_channel" });
    const answer = await slack.waitFor((c) => c.method === "response:6" && c !== running, 30_000, from);
    expect(answer.args).toMatchObject({ response_type: "in_channel", replace_original: true });
    expect(texts(answer)).toContain("analyze");
  });

  it("acks in under 3 s while a slowed analysis takes longer, and then answers in place", async () => {
    const from = slack.calls.length;
    slowNext = true;
    const body = slashCommand("analyze checkout", ALLOWED, slack.responseUrl("4"));
    const sent = performance.now();
    const ack = await post(body, signed(body));
    expect(ack.status).toBe(200);
    expect(ack.ms).toBeLessThan(3000);
    const answer = await slack.waitFor((c) => c.method === "chat.update", 60_000, from);
    const answeredAfter = answer.at - (performance.timeOrigin + sent);
    expect(answeredAfter).toBeGreaterThan(3000);
    expect(answeredAfter).toBeGreaterThan(ack.ms);
    process.stdout.write(`slack ack ${ack.ms.toFixed(0)} ms; answer after ${answeredAfter.toFixed(0)} ms\n`);
  });
});
