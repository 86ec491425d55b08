import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import { ConfigError } from "../../config.js";
import type { ServerDeps } from "../../server/deps.js";
import { unauthorized } from "../../server/errors.js";
import { gitlabApi } from "../../store/githost/gitlab.js";
import { releaseBranchLocks } from "../../store/repos/change-locks.js";
import { startChatJobs } from "../chat-jobs.js";
import { gitlabChatHost, noteRequests } from "./chat-host.js";
import { parseGitLabEvent } from "./events.js";
import { botUser } from "./project-api.js";
import { startGitLabReviews } from "./review-jobs.js";
import { gitlabTokenMatches } from "./webhook-token.js";

/** Where GitLab's project (or group) webhook posts: comments and merge request events. */
export const GITLAB_WEBHOOK_PATH = "/api/gitlab/webhooks";

const header = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

/**
 * GitLab's webhook on the main server, mounted when `GITLAB_WEBHOOK_SECRET` is set. A delivery without the
 * secret token is a 401 and nothing else happens; one the bot does not act on is a 200 and ignored; a
 * note with `/slo-scout` commands is handed to the shared chat-job runner (👀 and the sticky note at once,
 * the conversation queued) and answered 202 within GitLab's delivery timeout; so is a merge request
 * opened or pushed to, whose SLO specs are reviewed in a queued job (review-jobs.ts).
 */
export const gitlabWebhooks: FastifyPluginAsync<ServerDeps> = async (server, deps) => {
  const { config } = deps;
  const secret = config.GITLAB_WEBHOOK_SECRET;
  if (!secret) return;
  if (!config.GITLAB_TOKEN)
    throw new ConfigError(
      "config error: GITLAB_WEBHOOK_SECRET needs GITLAB_TOKEN (a token with the api scope)",
    );
  const app = deps.app;
  if (!app) throw new Error("the GitLab webhooks need the application context");
  const api = gitlabApi({ host: config.GITLAB_HOST, token: config.GITLAB_TOKEN });
  const me = botUser(api);
  const chats = await startChatJobs(app, gitlabChatHost(app, api, me));
  const reviews = await startGitLabReviews(app, api, me);

  // The token is checked before the body is read: an unauthenticated request is never parsed.
  const onRequest = async (request: FastifyRequest) => {
    if (!gitlabTokenMatches(secret, request.headers["x-gitlab-token"]))
      throw unauthorized("missing or wrong X-Gitlab-Token");
  };
  server.post(GITLAB_WEBHOOK_PATH, { onRequest }, async (request, reply) => {
    const event = parseGitLabEvent(header(request.headers["x-gitlab-event"]), request.body);
    if (!event) return { ignored: true };
    switch (event.kind) {
      case "note": {
        const requests = noteRequests(event, await me());
        if (requests.length === 0) return { ignored: true };
        // The note's id names the delivery: GitLab's retries and a resend from its UI carry the same note.
        const { duplicate, queued } = await chats.receive(
          `note:${event.project.id}:${event.noteId}`,
          requests,
        );
        return reply.code(202).send({ duplicate, queued: queued.length });
      }
      case "merge_request_closed": {
        const released = await releaseBranchLocks(app.sql, {
          repository: event.project.path,
          branch: event.sourceBranch,
        });
        return { released };
      }
      case "merge_request":
        return reply.code(202).send({ duplicate: !(await reviews.receive(event)) });
    }
  });
};
