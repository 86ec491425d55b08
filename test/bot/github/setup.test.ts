import type { FastifyInstance } from "fastify";
import pino from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { githubRoutes } from "../../../src/bot/github/route.js";
import { ConfigSchema } from "../../../src/config.js";
import { buildServer } from "../../../src/server/app.js";

/** With no APP_ID and GITHUB_SETUP=true, /probot serves the manifest flow built from app.yml; without the switch, nothing. */
describe("GitHub App setup mode", () => {
  const servers: FastifyInstance[] = [];
  const start = async (env: Record<string, string>) => {
    const config = ConfigSchema.parse({ DATABASE_URL: "pglite://memory", ...env });
    const server = await buildServer(
      { config, logger: pino({ level: "silent" }) },
      { plugins: [githubRoutes] },
    );
    servers.push(server);
    return server;
  };
  afterAll(async () => {
    for (const s of servers) await s.close();
  });

  it("serves the manifest form with app.yml's permissions and events", async () => {
    const server = await start({ GITHUB_SETUP: "true" });
    const res = await server.inject({ method: "GET", url: "/probot", headers: { host: "slo.example.com" } });
    expect(res.statusCode).toBe(200);
    const html = res.body.replace(/&quot;/g, '"');
    expect(html).toContain("https://github.com/settings/apps/new");
    expect(html).toContain('"name":"SLO-Scout"');
    expect(html).toContain('"checks":"write"');
    expect(html).toContain('"redirect_url":"http://slo.example.com/probot/setup"');
    const missingCode = await server.inject({ method: "GET", url: "/probot/setup" });
    expect(missingCode.statusCode).toBe(400);
  });

  it("serves nothing without the switch, and no webhook route without APP_ID", async () => {
    const server = await start({});
    expect((await server.inject({ method: "GET", url: "/probot" })).statusCode).toBe(404);
    expect(
      (await server.inject({ method: "POST", url: "/api/github/webhooks", payload: {} })).statusCode,
    ).toBe(404);
  });
});
