import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { FastifyPluginAsync } from "fastify";
import { createNodeMiddleware, Probot } from "probot";
import { type Config, ConfigError } from "../../config.js";
import { errorBody } from "../../core/error-body.js";
import type { ServerDeps } from "../../server/deps.js";
import { githubBot } from "./app.js";

/** Where GitHub delivers the App's webhooks (app.yml's hook URL). */
export const WEBHOOK_PATH = "/api/github/webhooks";

/** The App's private key from PRIVATE_KEY (PEM, PEM with `\n` escapes, or base64) or PRIVATE_KEY_PATH. */
export function privateKey(config: Pick<Config, "PRIVATE_KEY" | "PRIVATE_KEY_PATH">): string {
  if (config.PRIVATE_KEY_PATH) {
    try {
      return readFileSync(config.PRIVATE_KEY_PATH, "utf8");
    } catch (err) {
      throw new ConfigError(
        `config error: PRIVATE_KEY_PATH: cannot read ${config.PRIVATE_KEY_PATH} (${(err as NodeJS.ErrnoException).code})`,
      );
    }
  }
  const raw = config.PRIVATE_KEY ?? "";
  const pem = raw.includes("-----BEGIN") ? raw : Buffer.from(raw, "base64").toString("utf8");
  if (!pem.includes("-----BEGIN"))
    throw new ConfigError(
      "config error: PRIVATE_KEY must be the App's private key in PEM (-----BEGIN RSA PRIVATE KEY-----…), with \\n escapes or base64-encoded; or set PRIVATE_KEY_PATH",
    );
  return pem.replace(/\\n/g, "\n");
}

/** A Probot for the configured App: github.com, or GitHub Enterprise Server at GHE_HOST. */
export function probotFor(config: Config, log: Probot["log"]): Probot {
  if (!config.WEBHOOK_SECRET)
    throw new ConfigError("config error: APP_ID needs WEBHOOK_SECRET (the App's webhook secret)");
  if (!config.PRIVATE_KEY && !config.PRIVATE_KEY_PATH)
    throw new ConfigError(
      "config error: APP_ID needs PRIVATE_KEY or PRIVATE_KEY_PATH (the App's private key)",
    );
  return new Probot({
    appId: config.APP_ID,
    privateKey: privateKey(config),
    secret: config.WEBHOOK_SECRET,
    log,
    ...(config.GHE_HOST ? { baseUrl: `${config.GHE_PROTOCOL}://${config.GHE_HOST}/api/v3` } : {}),
  });
}

/**
 * The GitHub App on the main server: POST /api/github/webhooks. The signature is checked here first, so a
 * delivery without a valid X-Hub-Signature-256 gets 401 and reaches no handler; a signed one goes to
 * Probot's node middleware, which answers once the handlers have acknowledged the commands (the work
 * itself is queued). Mounted only when APP_ID is configured.
 */
export const githubRoutes: FastifyPluginAsync<ServerDeps> = async (server, deps) => {
  if (!deps.config.APP_ID) {
    if (deps.config.GITHUB_SETUP) await setupRoutes(server, deps);
    return;
  }
  if (!deps.app) throw new Error("the GitHub App needs the application context");
  const probot = probotFor(deps.config, deps.logger.child({ name: "github" }));
  const bot = await githubBot(deps.app, probot);
  const middleware = await createNodeMiddleware(bot.appFn, { probot, webhooksPath: WEBHOOK_PATH });

  // The signature covers the bytes GitHub sent, so the body stays text until it is checked.
  server.removeContentTypeParser("application/json");
  server.addContentTypeParser("application/json", { parseAs: "string" }, (_request, body, done) =>
    done(null, body),
  );
  server.post(WEBHOOK_PATH, async (request, reply) => {
    const signature = request.headers["x-hub-signature-256"];
    const body = typeof request.body === "string" ? request.body : "";
    const valid =
      typeof signature === "string" && (await probot.webhooks.verify(body, signature).catch(() => false));
    if (!valid) {
      return reply
        .code(401)
        .send(
          errorBody(
            "unauthorized",
            "the webhook signature (X-Hub-Signature-256) is missing or does not match WEBHOOK_SECRET",
          ),
        );
    }
    request.raw.body = body;
    reply.hijack();
    await middleware(request.raw, reply.raw);
  });
};

type SetupHandler = (request: IncomingMessage, response: ServerResponse) => Promise<boolean>;

/**
 * Probot's GitHub App manifest flow at /probot: a page that registers the App from app.yml on GitHub, and
 * the callback that turns GitHub's code into APP_ID, PRIVATE_KEY and WEBHOOK_SECRET in `.env` (restart to
 * use them). Probot exports no handler for it (its `run` would start a server of its own), so its setup app
 * is loaded from the installed package. Webhooks come straight to this server, so no smee.io channel is made.
 */
async function setupRoutes(server: Parameters<FastifyPluginAsync<ServerDeps>>[0], deps: ServerDeps) {
  process.env.NO_SMEE_SETUP ??= "true";
  const url = new URL("apps/setup.js", import.meta.resolve("probot"));
  const { setupAppFactory } = (await import(url.href)) as {
    setupAppFactory: (options: {
      host: string;
      port: number;
      log: Probot["log"];
    }) => () => Promise<SetupHandler>;
  };
  const handler = await setupAppFactory({
    host: deps.config.HOST,
    port: deps.config.PORT,
    log: deps.logger.child({ name: "github-setup" }),
  })();
  for (const path of ["/probot", "/probot/setup", "/probot/import", "/probot/success"]) {
    server.get(path, async (request, reply) => {
      reply.hijack();
      await handler(request.raw, reply.raw);
    });
  }
}
