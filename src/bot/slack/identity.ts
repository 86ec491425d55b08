import type { webApi } from "@slack/bolt";
import type { Logger } from "pino";
import type { Actor } from "../../app/proposals.js";

/**
 * Who clicked or typed, as the policy names people: the Slack user id always (the policy's
 * `approvers.slackUserIds`), and the e-mail Slack holds for them (`approvers.users`), read with
 * `users.info` (scope `users:read.email`). The e-mail is looked up only where it decides something (an
 * approval), and remembered for a few minutes so a burst of clicks costs one call.
 */

const TTL_MS = 10 * 60_000;

export interface SlackIdentities {
  actor(userId: string, chat: string, opts?: { withEmail?: boolean }): Promise<Actor>;
}

export function slackIdentities(client: webApi.WebClient, logger: Logger, now = Date.now): SlackIdentities {
  const emails = new Map<string, { email: string | undefined; at: number }>();

  async function emailOf(userId: string): Promise<string | undefined> {
    const hit = emails.get(userId);
    if (hit && now() - hit.at < TTL_MS) return hit.email;
    try {
      const res = await client.users.info({ user: userId });
      const email = res.user?.deleted ? undefined : res.user?.profile?.email;
      emails.set(userId, { email: email?.toLowerCase(), at: now() });
      return email?.toLowerCase();
    } catch (err) {
      // Without the e-mail the user id still counts; an approver listed by e-mail is then refused, and told why.
      logger.warn({ err, userId }, "users.info failed; the approver is matched by Slack user id only");
      return undefined;
    }
  }

  return {
    async actor(userId, chat, opts = {}) {
      const email = opts.withEmail ? await emailOf(userId) : undefined;
      return { login: userId, source: "slack", chat, ...(email ? { aliases: [email] } : {}) };
    },
  };
}
