import { randomUUID } from "node:crypto";
import type { App, Receiver, ReceiverEvent } from "@slack/bolt";
import { verifySlackRequest } from "@slack/bolt";
import type { FastifyInstance, FastifyReply } from "fastify";
import type { Logger } from "pino";
import { errorBody } from "../../core/error-body.js";

/** Slack's replay window: a request signed longer ago than this (or this far ahead) is refused. */
export const REPLAY_WINDOW_SECONDS = 300;

export interface FastifyReceiverOptions {
  signingSecret: string;
  logger: Logger;
  /** Where Slack posts slash commands and interactions (the app manifest's request URLs). */
  path?: string;
  /** Epoch ms; a seam for tests of the replay window. */
  now?: () => number;
}

/** Why a request did not pass the signature check; the reason is logged, the caller only sees 401. */
export function signatureProblem(
  rawBody: string,
  headers: Record<string, string | string[] | undefined>,
  signingSecret: string,
  nowMs: number,
): string | undefined {
  const signature = headers["x-slack-signature"];
  const timestamp = headers["x-slack-request-timestamp"];
  if (typeof signature !== "string" || typeof timestamp !== "string") return "signature headers missing";
  if (!/^\d{1,12}$/.test(timestamp)) return "timestamp is not a number of seconds";
  const ts = Number(timestamp);
  // Bolt refuses only old timestamps; one from the future is a replay waiting to happen, so both count.
  if (Math.abs(nowMs / 1000 - ts) > REPLAY_WINDOW_SECONDS) return "timestamp outside the 5-minute window";
  try {
    verifySlackRequest({
      signingSecret,
      body: rawBody,
      headers: { "x-slack-signature": signature, "x-slack-request-timestamp": ts },
      nowMilliseconds: nowMs,
    });
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** A slash command arrives as form fields; interactions as one form field `payload` holding JSON. */
export function parseSlackBody(rawBody: string, contentType: string | undefined): Record<string, unknown> {
  if (contentType?.includes("application/json")) return JSON.parse(rawBody) as Record<string, unknown>;
  const form = new URLSearchParams(rawBody);
  const payload = form.get("payload");
  if (payload !== null) return JSON.parse(payload) as Record<string, unknown>;
  return Object.fromEntries(form);
}

function headerNumber(value: string | string[] | undefined): number | undefined {
  const n = typeof value === "string" ? Number(value) : Number.NaN;
  return Number.isInteger(n) ? n : undefined;
}

/**
 * Bolt's receiver port on the main server's fastify: `/slack/events` verifies the v0 signature on the
 * raw body (401 when bad, missing or outside the replay window), hands the parsed body to the Bolt app,
 * and answers as soon as a listener calls `ack()`, with what it acked. Bolt's own HTTPReceiver would need
 * a port of its own; this keeps one server, one `/health` and one set of request metrics.
 */
export class FastifyReceiver implements Receiver {
  private bolt: App | undefined;
  readonly path: string;

  constructor(private readonly options: FastifyReceiverOptions) {
    this.path = options.path ?? "/slack/events";
  }

  init(app: App): void {
    this.bolt = app;
  }

  async start(): Promise<void> {}
  async stop(): Promise<void> {}

  /** Registers the route in an encapsulated fastify context (its body parser stays local). */
  async register(server: FastifyInstance): Promise<void> {
    await server.register(async (scope) => {
      scope.removeAllContentTypeParsers();
      // The signature covers the exact bytes, so the body is kept as the string Slack sent.
      scope.addContentTypeParser("*", { parseAs: "string" }, (_req, body, done) => done(null, body));
      scope.post(this.path, async (request, reply) => {
        const raw = typeof request.body === "string" ? request.body : "";
        const now = this.options.now?.() ?? Date.now();
        const problem = signatureProblem(raw, request.headers, this.options.signingSecret, now);
        if (problem) {
          this.options.logger.warn({ reason: problem }, "slack request refused");
          return reply.code(401).send(errorBody("unauthorized", "invalid Slack request signature"));
        }
        let body: Record<string, unknown>;
        try {
          body = parseSlackBody(raw, request.headers["content-type"]);
        } catch {
          return reply.code(400).send(errorBody("bad_request", "the body is not a Slack payload"));
        }
        if (body.ssl_check !== undefined) return reply.code(200).send();
        if (body.type === "url_verification") return reply.send({ challenge: body.challenge });
        return this.dispatch(body, request.headers, reply);
      });
    });
  }

  private async dispatch(
    body: Record<string, unknown>,
    headers: Record<string, string | string[] | undefined>,
    reply: FastifyReply,
  ) {
    const bolt = this.bolt;
    if (!bolt) return reply.code(503).send(errorBody("unavailable", "the Slack app is not ready"));
    let acked: (response: unknown) => void = () => {};
    const ackPromise = new Promise<{ response: unknown }>((resolve) => {
      let done = false;
      acked = (response) => {
        if (done) return;
        done = true;
        resolve({ response });
      };
    });
    const retryNum = headerNumber(headers["x-slack-retry-num"]);
    const retryReason = headers["x-slack-retry-reason"];
    const event: ReceiverEvent = {
      body,
      ack: async (response?: unknown) => acked(response),
      ...(retryNum !== undefined ? { retryNum } : {}),
      ...(typeof retryReason === "string" ? { retryReason } : {}),
    };
    const processed = bolt.processEvent(event).then(
      () => ({ processed: true as const, err: undefined as unknown }),
      (err: unknown) => ({ processed: true as const, err }),
    );
    const first = await Promise.race([ackPromise, processed]);
    if ("response" in first) return send(reply, first.response);
    if (!first.err)
      return reply.code(404).send(errorBody("not_found", "no SLO-Scout handler for this Slack request"));
    const correlationId = randomUUID().slice(0, 8);
    this.options.logger.error(
      { err: first.err, correlationId },
      "slack request failed before it was acknowledged",
    );
    // A slash command's HTTP answer is shown to the person who typed it, so it carries the reason.
    if (typeof body.command === "string")
      return reply.send({
        response_type: "ephemeral",
        text: `SLO-Scout could not take this command (correlation id ${correlationId}); please try again.`,
      });
    return reply.code(500).send(errorBody("internal", `correlation id ${correlationId}`));
  }
}

function send(reply: FastifyReply, response: unknown) {
  if (response === undefined || response === "") return reply.code(200).send();
  if (typeof response === "string") return reply.code(200).type("text/plain").send(response);
  return reply.code(200).send(response);
}
