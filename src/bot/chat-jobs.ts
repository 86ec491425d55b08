import { randomUUID } from "node:crypto";
import { parseCommand } from "../app/command-language.js";
import type { AppContext } from "../app/context.js";
import { converse, type Reply } from "../app/conversation.js";
import { code } from "../app/markdown-escape.js";
import type { Refusal } from "../app/outcome.js";
import { type Actor, proposal, proposals } from "../app/proposals.js";
import { COMMENT_LIMIT, renderMarkdown } from "../app/render-markdown.js";
import { chatCommands, refusalView, type ViewModel, type ViewOptions } from "../app/view-model.js";
import { claimDelivery } from "../store/repos/bot-deliveries.js";
import { acquireChangeLocks, finishChangeLock, type LockScope } from "../store/repos/change-locks.js";
import { subjectOf } from "./sticky.js";

/**
 * The chat-job runner every bot shares. A host adapter (GitHub, GitLab, Slack) turns its webhook into
 * `ChatRequest`s and calls `receive`, which
 *   1. claims the delivery id, so a redelivery or a retry of the webhook starts nothing;
 *   2. acknowledges each command at once through the host (a reaction, the sticky "running" reply);
 *   3. queues the conversation on the JobQueue port and returns, so the webhook is answered in time.
 * The queued job runs the command through `converse` and hands the rendered Markdown to the host's
 * `publish`, which edits the sticky reply in place. A job that fails, or a command that cannot be queued,
 * still gets an answer: a short reason and a correlation id the server log carries too.
 *
 * An approve with a `lock` scope takes the change lock of each service it touches for the duration of the
 * job (`src/store/repos/change-locks.ts`); once its change is open the lock stays with the conversation
 * until the host calls `releaseBranchLocks` as the change closes.
 */

/** One command from one person in one conversation. `T` is where it was typed (host-specific, JSON). */
export interface ChatRequest<T> {
  /** The command line as typed, with or without `/slo-scout`. */
  text: string;
  actor: Actor;
  thread: T;
  /** Where an approve's change goes and who is asking; approvals without it take no lock. */
  lock?: LockScope;
}

/** What a job hands the host: the rendered reply and what it came from. */
export interface ChatMessage {
  ok: boolean;
  /** Markdown, at most COMMENT_LIMIT minus room for the host's sticky marker. */
  markdown: string;
  /** What the Markdown was rendered from, for a host that renders otherwise (Slack's Block Kit). */
  views: ViewModel[];
  correlationId: string;
  /** The services the command concerns, joined (`subjectOf`): the sticky reply's subject. */
  subject: string;
  /** The conversation's reply; absent when the job failed before it had one. */
  reply?: Reply;
}

/**
 * A chat host. `T` is the thread a command came from, `R` the address of its sticky reply (both are
 * queued as JSON, so BullMQ can carry them to another process).
 */
export interface ChatHost<T, R> {
  /** Names the deliveries (`bot_deliveries.host`) and the queue's jobs (`chat:<name>`). */
  readonly name: string;
  /** Reacts to the command and writes (or edits) the sticky reply with `running`; returns its address. */
  acknowledge(request: ChatRequest<T>, running: { subject: string; markdown: string }): Promise<R>;
  /** Edits the sticky reply with the outcome. */
  publish(request: ChatRequest<T>, reply: R, message: ChatMessage): Promise<void>;
  /**
   * The host's own refusal of a request before it runs (the asker may not approve in this repository,
   * the service is not this repository's); undefined lets it run. Called in the job, with its context.
   */
  authorize?(request: ChatRequest<T>, app: AppContext): Promise<Refusal | undefined>;
  /** The application context a job runs in (e.g. with the installation's git host); `app` when absent. */
  context?(request: ChatRequest<T>): Promise<AppContext>;
  /** How commands are written in replies; `/slo-scout …` when absent. */
  viewOptions?: ViewOptions;
}

export interface ChatJobs<T> {
  /**
   * Starts the commands of one delivery (each line of a comment is one request). `duplicate` when the
   * delivery was claimed before: nothing was started. Never throws for a host or queue failure: each
   * command is answered with a reason instead, and the correlation ids come back.
   */
  receive(delivery: string, requests: ChatRequest<T>[]): Promise<{ duplicate: boolean; queued: string[] }>;
}

export interface ChatJobOptions {
  /** Jobs of this host run at most this many at once; default 2. */
  concurrency?: number;
  /** How long an approval holds its services while it runs; default 15 minutes. */
  runningLockMs?: number;
  /** How long a conversation keeps its services once its change is open; default 30 days. */
  openChangeLockMs?: number;
}

interface QueuedChat<T, R> {
  request: ChatRequest<T>;
  reply: R;
  subject: string;
}

/** Room left for the host's hidden marker and a short header under the comment limit. */
const MARKDOWN_LIMIT = COMMENT_LIMIT - 512;

/** Registers the host's job worker on the app's queue and returns its `receive`. */
export async function startChatJobs<T, R>(
  app: AppContext,
  host: ChatHost<T, R>,
  options: ChatJobOptions = {},
): Promise<ChatJobs<T>> {
  const queue = await app.queue();
  const jobName = `chat:${host.name}`;
  const view = host.viewOptions ?? { commands: chatCommands() };
  const runningLockMs = options.runningLockMs ?? 15 * 60_000;
  const openChangeLockMs = options.openChangeLockMs ?? 30 * 24 * 3600_000;

  const fail = async (request: ChatRequest<T>, reply: R, subject: string, err: unknown, what: string) => {
    const correlationId = randomUUID().slice(0, 8);
    app.logger.error({ err, correlationId, host: host.name }, what);
    const refusal = refusalView(
      {
        code: "internal",
        reason: `${what}; the server log has the details under correlation id ${correlationId}`,
        correlationId,
      },
      view,
    );
    const markdown = renderMarkdown(refusal);
    try {
      await host.publish(request, reply, { ok: false, markdown, views: [refusal], correlationId, subject });
    } catch (publishErr) {
      app.logger.error(
        { err: publishErr, correlationId, host: host.name },
        "could not post the failure reply",
      );
    }
    return correlationId;
  };

  queue.process<QueuedChat<T, R>, void>(
    jobName,
    async (job) => {
      const { request, reply, subject } = job.data;
      try {
        const ctx = host.context ? await host.context(request) : app;
        const refusal = await host.authorize?.(request, ctx);
        const message = refusal ? refused(refusal, subject) : await runLocked(ctx, request, job.id, subject);
        await host.publish(request, reply, message);
      } catch (err) {
        await fail(request, reply, subject, err, "the command failed unexpectedly");
      }
    },
    options.concurrency ?? 2,
  );

  async function runLocked(
    ctx: AppContext,
    request: ChatRequest<T>,
    jobId: string,
    subject: string,
  ): Promise<ChatMessage> {
    const parsed = parseCommand(request.text);
    const scope = request.lock;
    if (!scope || !parsed.ok || parsed.command.verb !== "approve") return talk(ctx, request, subject);
    const services = await servicesOf(ctx, request.text);
    const acquired = await acquireChangeLocks(ctx.sql, {
      ...scope,
      services,
      job: jobId,
      now: ctx.now(),
      ttlMs: runningLockMs,
    });
    if (!acquired.ok) {
      const h = acquired.holder;
      const since = new Date(h.acquiredAt).toISOString().slice(0, 16).replace("T", " ");
      const reason = h.job
        ? `another approval of ${h.service} is running (from ${h.owner}, started ${since} UTC); try again when it has finished`
        : `${h.service} has an open SLO-Scout change${h.branch ? ` on ${h.branch}` : ""} approved from ${h.owner}; approve there, or close that change first`;
      return refused({ code: "locked", reason }, subject);
    }
    let message: ChatMessage | undefined;
    try {
      message = await talk(ctx, request, subject);
      return message;
    } finally {
      for (const service of services) {
        const change = message?.reply?.views.find((v) => v.kind === "change" && v.services.includes(service));
        await finishChangeLock(ctx.sql, {
          repository: scope.repository,
          service,
          job: jobId,
          ...(change?.kind === "change" ? { branch: change.branch } : {}),
          now: ctx.now(),
          ttlMs: openChangeLockMs,
        });
      }
    }
  }

  function refused(refusal: Refusal, subject: string): ChatMessage {
    const correlationId = randomUUID().slice(0, 8);
    app.logger.info(
      { correlationId, host: host.name, refusal: refusal.code },
      "chat command refused by the host",
    );
    const shown = refusalView({ ...refusal, correlationId }, view);
    return { ok: false, correlationId, subject, markdown: renderMarkdown(shown), views: [shown] };
  }

  async function talk(ctx: AppContext, request: ChatRequest<T>, subject: string): Promise<ChatMessage> {
    const reply = await converse(ctx, request.text, request.actor, view);
    let markdown: string | undefined;
    return {
      ok: reply.ok,
      // Rendered when a host reads it: Slack renders the views as Block Kit and never does, and a
      // reply's Markdown is the largest synchronous step of a job, taken from the acks of other commands.
      get markdown() {
        markdown ??= cut(reply.views.map(renderMarkdown).join("\n\n---\n\n"));
        return markdown;
      },
      views: reply.views,
      correlationId: reply.correlationId,
      subject,
      reply,
    };
  }

  return {
    async receive(delivery, requests) {
      const first = await claimDelivery(app.sql, { host: host.name, id: delivery, now: app.now() });
      if (!first) {
        app.logger.info({ host: host.name, delivery }, "redelivered webhook ignored");
        return { duplicate: true, queued: [] };
      }
      const queued: string[] = [];
      for (const [i, request] of requests.entries()) {
        const ctx = host.context ? await host.context(request).catch(() => app) : app;
        const subject = subjectOf(await servicesOf(ctx, request.text).catch(() => []));
        const running = runningMarkdown(request);
        let reply: R;
        try {
          reply = await host.acknowledge(request, { subject, markdown: running });
        } catch (err) {
          const correlationId = randomUUID().slice(0, 8);
          app.logger.error(
            { err, correlationId, host: host.name, delivery },
            "could not acknowledge a command",
          );
          continue;
        }
        const jobId = `${host.name}:${delivery}:${i}`;
        try {
          await queue.add<QueuedChat<T, R>>(jobName, { request, reply, subject }, { jobId, attempts: 1 });
          queued.push(jobId);
        } catch (err) {
          await fail(request, reply, subject, err, "the command could not be queued");
        }
      }
      return { duplicate: false, queued };
    },
  };
}

function cut(markdown: string): string {
  return markdown.length > MARKDOWN_LIMIT
    ? `${markdown.slice(0, MARKDOWN_LIMIT)}\n\n… (cut: the reply is longer than a comment can hold)`
    : markdown;
}

/** What the sticky reply says while a command runs. */
export function runningMarkdown(request: ChatRequest<unknown>): string {
  const text = request.text.replace(/^[/@]slo-scout\s*/i, "") || "help";
  return `⏳ Running ${code(text)} for @${request.actor.login}… this comment is updated when it finishes.`;
}

/**
 * The services a command concerns: the one it names, or those of the proposals it names (all open ones
 * for `approve all`). None for help, status, an unknown id or text that does not parse.
 */
export async function servicesOf(app: AppContext, text: string): Promise<string[]> {
  const parsed = parseCommand(text);
  if (!parsed.ok) return [];
  const c = parsed.command;
  switch (c.verb) {
    case "analyze":
      return [c.service];
    case "proposals":
      return c.service ? [c.service] : [];
    case "approve": {
      if (c.proposals === "all")
        return unique((await proposals(app, { status: "proposed" })).map((p) => p.service));
      const found = await Promise.all(c.proposals.map((id) => proposal(app, id)));
      return unique(found.flatMap((p) => (p.ok ? [p.value.service] : [])));
    }
    case "reject":
    case "simulate": {
      const p = await proposal(app, c.proposalId);
      return p.ok ? [p.value.service] : [];
    }
    case "status":
    case "help":
      return [];
  }
}

const unique = (xs: string[]) => [...new Set(xs)].sort();
