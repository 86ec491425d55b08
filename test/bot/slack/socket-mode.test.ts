import { once } from "node:events";
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type WebSocket, WebSocketServer } from "ws";
import { type AppContext, openApp } from "../../../src/app/context.js";
import { slackRoutes } from "../../../src/bot/slack/plugin.js";
import { ConfigSchema } from "../../../src/config.js";
import { buildServer } from "../../../src/server/app.js";
import { ROOT } from "../../generators/helpers.js";
import { type SlackStandIn, startSlackStandIn } from "../../helpers/slack-stand-in.js";

/**
 * Socket Mode (`SLACK_APP_TOKEN` set): the app asks `apps.connections.open` (the Web API stand-in) for a
 * WebSocket URL, which is a local WebSocket server playing Slack: it sends Slack's `hello`, then a
 * `slash_commands` envelope in Slack's documented shape, and expects the envelope's ack back before the
 * answer is posted through the Web API. No HTTP route is mounted.
 */

const fixture = (name: string) =>
  JSON.parse(readFileSync(join(ROOT, "test/fixtures/slack", name), "utf8")) as Record<string, unknown>;
const APP_TOKEN = "xapp-1-A01K58AR4RF-1338574186480-test";

describe("Slack over Socket Mode", { timeout: 60_000 }, () => {
  let wss: WebSocketServer;
  let slack: SlackStandIn;
  let app: AppContext;
  let server: FastifyInstance;
  /** Everything the app sent over the socket, parsed. */
  const received: Record<string, unknown>[] = [];
  let socket: WebSocket | undefined;

  beforeAll(async () => {
    wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await once(wss, "listening");
    wss.on("connection", (ws) => {
      socket = ws;
      ws.on("message", (data) => received.push(JSON.parse(String(data))));
      ws.send(JSON.stringify(fixture("socket-hello.json")));
    });
    slack = await startSlackStandIn({
      socketUrl: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/link/?ticket=test&app_id=A01K58AR4RF`,
    });
    const config = ConfigSchema.parse({
      DATABASE_URL: "pglite://memory",
      LOG_LEVEL: "silent",
      SLACK_BOT_TOKEN: "xoxb-test-token",
      SLACK_APP_TOKEN: APP_TOKEN,
      SLACK_API_URL: slack.apiUrl,
    });
    const logger = pino({ level: process.env.TEST_LOG ?? "silent" });
    app = await openApp(config, { logger });
    // The plugin's start resolves once Slack's hello has arrived on the socket.
    server = await buildServer({ config, logger, sql: app.sql, app }, { plugins: [slackRoutes()] });
    await server.listen({ host: "127.0.0.1", port: 0 });
  });

  afterAll(async () => {
    await server?.close();
    await app?.close();
    await slack?.close();
    for (const client of wss?.clients ?? []) client.terminate();
    await new Promise((resolve) => wss?.close(resolve));
  });

  it("connects with the app token, acks a slash command's envelope and posts the answer", async () => {
    const open = slack.calls.find((c) => c.method === "apps.connections.open");
    expect(open?.authorization).toBe(`Bearer ${APP_TOKEN}`);
    expect(socket).toBeDefined();

    const envelope = fixture("socket-slash-command.json");
    const payload = envelope.payload as Record<string, string>;
    payload.command = "/slo-scout";
    payload.text = "help";
    const from = slack.calls.length;
    const sent = performance.now();
    socket!.send(JSON.stringify(envelope));

    const deadline = Date.now() + 10_000;
    while (!received.some((m) => m.envelope_id === envelope.envelope_id) && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 10));
    const acked = performance.now() - sent;
    const ack = received.find((m) => m.envelope_id === envelope.envelope_id);
    expect(ack).toBeDefined();
    expect(acked).toBeLessThan(3000);

    const running = await slack.waitFor((c) => c.method === "chat.postMessage", 30_000, from);
    expect(running.args).toMatchObject({ channel: payload.channel_id });
    expect(running.authorization).toBe("Bearer xoxb-test-token");
    const answer = await slack.waitFor((c) => c.method === "chat.update", 30_000, from);
    expect(answer.args.ts).toBe(running.args.ts ?? answer.args.ts);
    expect(JSON.stringify(answer.args.blocks)).toContain("analyze");
    // Over the socket there is no HTTP route: /slack/events is not mounted.
    const port = (server.server.address() as AddressInfo).port;
    expect((await fetch(`http://127.0.0.1:${port}/slack/events`, { method: "POST" })).status).toBe(404);
  });
});
