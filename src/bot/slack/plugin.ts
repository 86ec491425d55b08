import type { FastifyPluginAsync } from "fastify";
import { ConfigError } from "../../config.js";
import type { ServerDeps } from "../../server/deps.js";
import { changeRepository } from "../../store/githost/open.js";
import { githubInstallations } from "../github/installation.js";
import { type SlackBotOptions, startSlackBot } from "./bot.js";

/**
 * Mounts the Slack app when `SLACK_BOT_TOKEN` is set: `/slack/events` on this server in HTTP mode
 * (`SLACK_SIGNING_SECRET`), or a Socket Mode connection when `SLACK_APP_TOKEN` is set. Without a bot token
 * nothing is mounted and `/slack/events` is a 404.
 */
export function slackRoutes(
  overrides: Pick<SlackBotOptions, "now" | "jobs" | "intakeConcurrency"> = {},
): FastifyPluginAsync<ServerDeps> {
  return async (server, deps) => {
    const config = deps.config;
    if (!config.SLACK_BOT_TOKEN) return;
    if (!config.SLACK_SIGNING_SECRET && !config.SLACK_APP_TOKEN)
      throw new ConfigError(
        "config error: SLACK_BOT_TOKEN needs SLACK_SIGNING_SECRET (HTTP mode on /slack/events) or SLACK_APP_TOKEN (Socket Mode)",
      );
    const app = deps.app;
    if (!app) throw new Error("the Slack app needs the application context");
    const repository = changeRepository(config.SLO_SCOUT_SLACK_REPO, config, {
      application: () => app.gitHost(),
      github: githubInstallations(config, deps.logger.child({ name: "github" })),
    });
    const bot = await startSlackBot({
      app,
      logger: deps.logger,
      botToken: config.SLACK_BOT_TOKEN,
      apiUrl: config.SLACK_API_URL,
      repository,
      ...(config.SLACK_SIGNING_SECRET ? { signingSecret: config.SLACK_SIGNING_SECRET } : {}),
      ...(config.SLACK_APP_TOKEN ? { appToken: config.SLACK_APP_TOKEN } : {}),
      ...overrides,
    });
    if (bot.receiver) await bot.receiver.register(server);
    server.addHook("onClose", async () => bot.stop());
    await bot.start();
  };
}
