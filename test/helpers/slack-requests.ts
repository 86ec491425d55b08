import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../generators/helpers.js";
import type { SlackCall } from "./slack-stand-in.js";

/**
 * What Slack posts to /slack/events, built from its documented bodies (test/fixtures/slack) with the parts
 * a test changes, and signed the way Slack signs them (v0, HMAC-SHA256 of `v0:<timestamp>:<body>`).
 */

export const SLACK_SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5";
export const SLACK_CHANNEL = "C2147483705";

const fixture = (name: string) => readFileSync(join(ROOT, "test/fixtures/slack", name), "utf8");

let triggers = 0;
/** A fresh trigger id, as Slack gives each interaction. */
export const trigger = () => `${13345224609 + ++triggers}.738474920.8088930838d88f008e0`;

/** Slack's documented slash-command body with our command, user and trigger. */
export function slashCommand(
  text: string,
  user: string,
  responseUrl: string,
  triggerId = trigger(),
  channel = SLACK_CHANNEL,
): string {
  const form = new URLSearchParams(fixture("slash-command.txt").trim());
  form.set("command", "/slo-scout");
  form.set("text", text);
  form.set("user_id", user);
  form.set("channel_id", channel);
  form.set("response_url", responseUrl);
  form.set("trigger_id", triggerId);
  return form.toString();
}

/** Slack's documented block_actions payload: a click on one of our buttons on the message `ts`. */
export function buttonClick(actionId: string, value: string, user: string, ts: string): string {
  const body = JSON.parse(fixture("block-actions.json"));
  body.user = { ...body.user, id: user };
  body.channel = { id: SLACK_CHANNEL, name: "test" };
  body.container = { ...body.container, channel_id: SLACK_CHANNEL, message_ts: ts };
  body.message = { ...body.message, ts };
  body.trigger_id = trigger();
  body.actions = [{ ...body.actions[0], action_id: actionId, block_id: `proposal:${value}`, value }];
  return new URLSearchParams({ payload: JSON.stringify(body) }).toString();
}

/** Slack's documented view_submission payload for the modal the bot opened. */
export function submission(
  view: Record<string, unknown>,
  values: Record<string, string>,
  user: string,
): string {
  const body = JSON.parse(fixture("view-submission.json"));
  body.user = { ...body.user, id: user };
  body.trigger_id = trigger();
  body.view = {
    ...body.view,
    ...view,
    id: `V${triggers}`,
    state: {
      values: Object.fromEntries(
        Object.entries(values).map(([block, value]) => [
          block,
          { value: { type: "plain_text_input", value } },
        ]),
      ),
    },
  };
  return new URLSearchParams({ payload: JSON.stringify(body) }).toString();
}

/** The headers Slack sends with a body: its v0 signature at `at` (now unless told). */
export function signed(body: string, at = Date.now(), secret = SLACK_SIGNING_SECRET): Record<string, string> {
  const ts = String(Math.floor(at / 1000));
  const sig = createHmac("sha256", secret).update(`v0:${ts}:${body}`).digest("hex");
  return {
    "content-type": "application/x-www-form-urlencoded",
    "x-slack-request-timestamp": ts,
    "x-slack-signature": `v0=${sig}`,
  };
}

/** Everything a Web API call showed: its blocks and its fallback text. */
export const texts = (c: SlackCall) => JSON.stringify(c.args.blocks ?? []) + String(c.args.text ?? "");
