import { randomUUID } from "node:crypto";
import {
  App,
  type BlockAction,
  type Logger as BoltLogger,
  type ButtonAction,
  LogLevel,
  type Receiver,
  SocketModeReceiver,
  type ViewSubmitAction,
  webApi,
} from "@slack/bolt";
import type { Logger } from "pino";
import { type Command, formatCommand } from "../../app/command-language.js";
import type { AppContext } from "../../app/context.js";
import { proposal } from "../../app/proposals.js";
import { chatCommands } from "../../app/view-model.js";
import type { ChangeRepository } from "../../store/githost/open.js";
import { type ChatHost, type ChatJobOptions, type ChatRequest, startChatJobs } from "../chat-jobs.js";
import { ACTIONS, renderReply, runningMessage, type SlackMessage } from "./blocks.js";
import { slackIdentities } from "./identity.js";
import { intake } from "./intake.js";
import {
  MODALS,
  type ModalOrigin,
  originOf,
  reasonOf,
  rejectModal,
  simulateModal,
  targetError,
  targetOf,
} from "./modals.js";
import { FastifyReceiver } from "./receiver.js";

/**
 * The Slack face: `/slo-scout <command>`, the Approve / Simulate / Reject buttons and their modals, in
 * front of the shared chat-job runner. Every listener acks first (Slack waits 3 s), then hands the
 * command to the runner, which claims the delivery (a retry of the same request starts nothing), posts a
 * "running" message, queues the conversation and replaces that message with the answer in Block Kit. An
 * approval's answer, with the change's link, goes into the thread of the message whose button was
 * clicked.
 */

/** Where a command was typed or clicked; queued as JSON with the job. */
export interface SlackThread {
  team: string;
  channel: string;
  user: string;
  /** The message whose buttons were used; its thread gets the answer. */
  threadTs?: string;
  /** A slash command's response URL: the way to answer where the bot may not post. */
  responseUrl?: string;
}

/** The "running" message that the answer replaces. */
export type SlackReplyAddress = { channel: string; ts: string } | { responseUrl: string };

export interface SlackBotOptions {
  app: AppContext;
  logger: Logger;
  botToken: string;
  /** HTTP mode: requests on the main server's `/slack/events`, verified with this secret. */
  signingSecret?: string;
  /** Socket Mode when set: Slack sends everything over a WebSocket the app opens. */
  appToken?: string;
  apiUrl: string;
  repository: ChangeRepository;
  jobs?: ChatJobOptions;
  /** Epoch ms for the signature's replay window (tests). */
  now?: () => number;
  /** Acknowledged commands taken in (claimed, "running" posted, queued) at once; default INTAKE_CONCURRENCY. */
  intakeConcurrency?: number;
}

/**
 * Enough to keep several Web API round trips in flight, few enough that the event loop stays free to
 * read and ack the rest of a burst (bench:slack, README "Slack acknowledgements").
 */
export const INTAKE_CONCURRENCY = 4;

export interface SlackBot {
  bolt: App;
  /** Present in HTTP mode: mount it on the server. */
  receiver?: FastifyReceiver;
  start(): Promise<void>;
  stop(): Promise<void>;
}

const COMMANDS = chatCommands("/slo-scout ");

export async function startSlackBot(options: SlackBotOptions): Promise<SlackBot> {
  const { app, logger, repository } = options;
  const log = logger.child({ host: "slack" });
  const client = new webApi.WebClient(options.botToken, {
    slackApiUrl: options.apiUrl,
    logger: boltLogger(log),
    // The job's reply is the retry: a failed post is answered with a reason, not re-sent blind.
    retryConfig: { retries: 2, factor: 2, minTimeout: 200, maxTimeout: 2000 },
  });
  const identities = slackIdentities(client, log);
  const context: AppContext = { ...app, gitHost: () => repository.gitHost() };

  const host: ChatHost<SlackThread, SlackReplyAddress> = {
    name: "slack",
    viewOptions: { commands: COMMANDS },
    context: async () => context,
    async acknowledge(request) {
      const t = request.thread;
      const message = runningMessage(`/slo-scout ${commandText(request.text)}`, t.user);
      try {
        const posted = await client.chat.postMessage({
          channel: t.channel,
          ...(t.threadTs ? { thread_ts: t.threadTs } : {}),
          ...message,
        });
        if (!posted.ts) throw new Error("chat.postMessage returned no ts");
        return { channel: posted.channel ?? t.channel, ts: posted.ts };
      } catch (err) {
        // A channel the bot was not invited to still takes the command's own response URL.
        if (!t.responseUrl) throw err;
        log.info({ err: (err as Error).message }, "chat.postMessage refused; answering on the response URL");
        await postResponse(t.responseUrl, { response_type: "in_channel", ...message });
        return { responseUrl: t.responseUrl };
      }
    },
    async publish(_request, address, message) {
      const reply = renderReply(message.views);
      if ("ts" in address) {
        await client.chat.update({ channel: address.channel, ts: address.ts, ...reply });
      } else {
        await postResponse(address.responseUrl, {
          response_type: "in_channel",
          replace_original: true,
          ...reply,
        });
      }
    },
  };
  const jobs = await startChatJobs(app, host, {
    ...(repository.local ? { openChangeLockMs: 0 } : {}),
    ...options.jobs,
  });

  const lockOf = (t: SlackThread) => ({ repository: repository.name, owner: `slack:${t.team}/${t.channel}` });
  const chatOf = (t: SlackThread) => `slack:${t.team}/${t.channel}${t.threadTs ? `/${t.threadTs}` : ""}`;

  const taken = intake(options.intakeConcurrency ?? INTAKE_CONCURRENCY);

  /** Called after ack(): the command is taken in on a later turn, behind the acks of a burst. */
  function run(delivery: string, command: Command | string, thread: SlackThread): Promise<void> {
    return taken.run(async () => {
      try {
        await take(delivery, command, thread);
      } catch (err) {
        await untaken(thread, err);
      }
    });
  }

  /** An acked command that could not be claimed or queued (the database down) is still answered. */
  async function untaken(thread: SlackThread, err: unknown): Promise<void> {
    const correlationId = randomUUID().slice(0, 8);
    log.error({ err, correlationId }, "an acknowledged Slack command could not be taken in");
    const text = `SLO-Scout could not take this command (correlation id ${correlationId}); please try again.`;
    try {
      if (thread.responseUrl) await postResponse(thread.responseUrl, { response_type: "ephemeral", text });
      else await client.chat.postEphemeral({ channel: thread.channel, user: thread.user, text });
    } catch (answerErr) {
      log.error({ err: answerErr, correlationId }, "could not answer the command either");
    }
  }

  async function take(delivery: string, command: Command | string, thread: SlackThread): Promise<void> {
    const text = typeof command === "string" ? command : formatCommand(command);
    const approving = /^\s*approve\b/i.test(commandText(text));
    const actor = await identities.actor(thread.user, chatOf(thread), { withEmail: approving });
    const request: ChatRequest<SlackThread> = {
      text,
      actor,
      thread,
      ...(approving ? { lock: lockOf(thread) } : {}),
    };
    await jobs.receive(`${thread.team}:${delivery}`, [request]);
  }

  const receiver: Receiver = options.appToken
    ? new SocketModeReceiver({
        appToken: options.appToken,
        logger: boltLogger(log),
        installerOptions: { clientOptions: { slackApiUrl: options.apiUrl } },
      })
    : new FastifyReceiver({
        signingSecret: required(options.signingSecret, "SLACK_SIGNING_SECRET"),
        logger: log,
        ...(options.now ? { now: options.now } : {}),
      });
  const bolt = new App({
    receiver,
    // One token for one workspace; no auth.test before each event, so an ack never waits on Slack.
    authorize: async () => ({ botToken: options.botToken }),
    clientOptions: { slackApiUrl: options.apiUrl },
    // Bolt's conversation store keeps per-channel state no listener here reads; it costs every event a lookup.
    convoStore: false,
    logger: boltLogger(log),
  });

  bolt.command(/^\/[\w-]+$/, async ({ command, ack }) => {
    await ack();
    await run(`command:${command.trigger_id}`, command.text.trim() || "help", {
      team: command.team_id,
      channel: command.channel_id,
      user: command.user_id,
      responseUrl: command.response_url,
    });
  });

  const clicked = (body: BlockAction): SlackThread => ({
    team: body.team?.id ?? body.user.team_id ?? "",
    channel: body.channel?.id ?? body.container.channel_id,
    user: body.user.id,
    ...(messageTs(body) ? { threadTs: messageTs(body)! } : {}),
  });

  bolt.action<BlockAction<ButtonAction>>(ACTIONS.approve, async ({ ack, body, action }) => {
    await ack();
    await run(
      `action:${body.trigger_id}`,
      { verb: "approve", proposals: [action.value ?? ""] },
      clicked(body),
    );
  });

  const openModal =
    (kind: "simulate" | "reject") =>
    async ({ ack, body, action }: { ack: () => Promise<void>; body: BlockAction; action: ButtonAction }) => {
      await ack();
      const thread = clicked(body);
      const id = action.value ?? "";
      const origin: ModalOrigin = {
        proposalId: id,
        channel: thread.channel,
        ...(thread.threadTs ? { threadTs: thread.threadTs } : {}),
      };
      const found = await proposal(app, id);
      const name = found.ok ? (found.value.name ?? found.value.journey) : id;
      const view =
        kind === "simulate"
          ? simulateModal(origin, { name, recommended: found.ok ? found.value.target.recommended : 99.9 })
          : rejectModal(origin, { name });
      try {
        await client.views.open({ trigger_id: body.trigger_id, view });
      } catch (err) {
        // The trigger lives 3 s; without the modal the person is told what to type instead.
        log.warn({ err }, "views.open failed");
        const fallback: Command =
          kind === "simulate"
            ? {
                verb: "simulate",
                proposalId: id,
                targetPercent: found.ok ? found.value.target.recommended : 99.9,
              }
            : { verb: "reject", proposalId: id };
        await client.chat
          .postEphemeral({
            channel: thread.channel,
            user: thread.user,
            text: `The ${kind} form could not open (${(err as Error).message}); type /slo-scout ${formatCommand(fallback)}`,
          })
          .catch((e: unknown) => log.warn({ err: e }, "chat.postEphemeral failed"));
      }
    };
  bolt.action<BlockAction<ButtonAction>>(ACTIONS.simulate, openModal("simulate"));
  bolt.action<BlockAction<ButtonAction>>(ACTIONS.reject, openModal("reject"));

  const submitted = (body: ViewSubmitAction, origin: ModalOrigin): SlackThread => ({
    team: body.team?.id ?? body.user.team_id ?? "",
    channel: origin.channel,
    user: body.user.id,
    ...(origin.threadTs ? { threadTs: origin.threadTs } : {}),
  });

  bolt.view<ViewSubmitAction>(MODALS.simulate, async ({ ack, body, view }) => {
    const target = targetOf(view.state.values);
    if (!target.ok) {
      await ack(targetError(target.error));
      return;
    }
    await ack();
    const origin = originOf(view.private_metadata);
    if (!origin) return log.warn({ view: view.id }, "simulate form without its origin ignored");
    await run(
      `view:${view.id}:${body.trigger_id ?? view.hash}`,
      { verb: "simulate", proposalId: origin.proposalId, targetPercent: target.percent },
      submitted(body, origin),
    );
  });

  bolt.view<ViewSubmitAction>(MODALS.reject, async ({ ack, body, view }) => {
    await ack();
    const origin = originOf(view.private_metadata);
    if (!origin) return log.warn({ view: view.id }, "reject form without its origin ignored");
    const reason = reasonOf(view.state.values);
    await run(
      `view:${view.id}:${body.trigger_id ?? view.hash}`,
      { verb: "reject", proposalId: origin.proposalId, ...(reason ? { reason } : {}) },
      submitted(body, origin),
    );
  });

  bolt.error(async (err) => {
    log.error({ err }, "slack listener failed");
  });

  return {
    bolt,
    ...(receiver instanceof FastifyReceiver ? { receiver } : {}),
    async start() {
      // A token Slack refuses is worth one clear line at start; the server keeps serving either way.
      client.auth.test().then(
        (r) => log.info({ team: r.team, bot: r.user }, "slack connected"),
        (err: Error) =>
          log.error({ err: err.message }, "slack auth.test failed: check SLACK_BOT_TOKEN and SLACK_API_URL"),
      );
      if (options.appToken) await bolt.start();
    },
    async stop() {
      await taken.drain();
      if (options.appToken)
        await bolt.stop().catch((err: unknown) => log.warn({ err }, "socket mode stop failed"));
      await repository.close();
    },
  };
}

/** The command as typed without the `/slo-scout` prefix. */
function commandText(text: string): string {
  return text.replace(/^[/@]slo-scout\s*/i, "").trim() || "help";
}

function messageTs(body: BlockAction): string | undefined {
  const m = body.message as { ts?: string; thread_ts?: string } | undefined;
  return m?.thread_ts ?? m?.ts ?? body.container?.message_ts;
}

function required(value: string | undefined, key: string): string {
  if (!value) throw new Error(`${key} is required`);
  return value;
}

/** Posts to a response URL (valid 30 minutes, 5 uses): a slash command's way back when the bot may not post. */
async function postResponse(
  url: string,
  message: Partial<SlackMessage> & Record<string, unknown>,
): Promise<void> {
  if (!/^https?:\/\//.test(url)) throw new Error("the response URL is not a web address");
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(message),
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok) throw new Error(`the response URL answered ${res.status}`);
}

/** Bolt and the Web API client log through the server's pino logger. */
function boltLogger(log: Logger): BoltLogger {
  const line = (msg: unknown[]) => msg.map((m) => (typeof m === "string" ? m : JSON.stringify(m))).join(" ");
  return {
    debug: (...m) => log.debug(line(m)),
    info: (...m) => log.info(line(m)),
    warn: (...m) => log.warn(line(m)),
    error: (...m) => log.error(line(m)),
    setLevel: () => {},
    getLevel: () => LogLevel.INFO,
    setName: () => {},
  };
}
