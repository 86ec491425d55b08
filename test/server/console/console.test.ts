import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import Handlebars from "handlebars";
import { SignJWT } from "jose";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { simulate } from "../../../src/analysis/simulate.js";
import { type AppContext, openApp } from "../../../src/app/context.js";
import { proposalView } from "../../../src/app/view-model.js";
import { ConfigSchema } from "../../../src/config.js";
import { Journey } from "../../../src/core/journey.js";
import { Proposal } from "../../../src/core/proposal.js";
import { buildServer } from "../../../src/server/app.js";
import { simulationSection } from "../../../src/server/console/pages.js";
import { consolePlugin } from "../../../src/server/console/plugin.js";
import { renderPage } from "../../../src/server/console/render-html.js";
import { listAudit } from "../../../src/store/repos/audit.js";
import { getProposal, saveProposal } from "../../../src/store/repos/proposals.js";
import { touchService, upsertJourneys } from "../../../src/store/repos/services.js";
import { ROOT } from "../../generators/helpers.js";

/**
 * The web console over the server, as a browser without JavaScript uses it: pages read through the use
 * cases, forms posted to approve and reject, and the refusals a reader can meet. Proposals and journeys
 * are the ones recorded from `analyze checkout` on the demo shop (test/fixtures/analysis).
 */

const recorded = JSON.parse(
  readFileSync(join(ROOT, "test/fixtures/analysis/demo-checkout.json"), "utf8"),
) as {
  journeys: unknown[];
  proposals: unknown[];
};
const proposals = recorded.proposals.map((p) => Proposal.parse(p));
const journeys = recorded.journeys.map((j) => Journey.parse(j));
const availability = proposals.find((p) => p.name === "checkout POST /checkout availability")!;
const latency = proposals.find((p) => p.name === "checkout POST /checkout latency")!;
const HOSTILE = `<script>alert("x")</script>`;

const SECRET = "a-console-test-secret-long-enough-0123456789";
const token = (sub: string, scope: string) =>
  new SignJWT({ scope })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(sub)
    .setExpirationTime("5m")
    .sign(new TextEncoder().encode(SECRET));

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const FORM = { "content-type": "application/x-www-form-urlencoded", host: "127.0.0.1:3000" };

describe("web console", { timeout: 120_000 }, () => {
  let dir: string;
  let repo: string;
  let app: AppContext;
  let server: FastifyInstance;
  /** The same app behind JWT_SECRET: tokens instead of loopback. */
  let guarded: FastifyInstance;
  const git = (...args: string[]) => execFileSync("git", ["-C", repo, ...args], { encoding: "utf8" });
  const get = (url: string) => server.inject({ method: "GET", url });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "slo-scout-console-"));
    repo = join(dir, "repo");
    mkdirSync(repo);
    git("init", "-q", "-b", "main");
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "init");
    const env = { DATABASE_URL: "pglite://memory", SLO_SCOUT_REPO: repo, LOG_LEVEL: "silent" };
    const config = ConfigSchema.parse(env);
    const logger = pino({ level: process.env.CONSOLE_TEST_LOG ?? "silent" });
    app = await openApp(config, { logger });
    const at = Date.UTC(2026, 10, 22);
    for (const s of ["checkout", "frontend", "api-gateway", HOSTILE])
      await touchService(app.sql, s, at, ["span"]);
    await upsertJourneys(app.sql, journeys);
    for (const p of proposals) await saveProposal(app.sql, p);
    server = await buildServer({ config, logger, sql: app.sql, app }, { plugins: [consolePlugin] });
    const jwtConfig = ConfigSchema.parse({ ...env, JWT_SECRET: SECRET });
    guarded = await buildServer(
      { config: jwtConfig, logger, sql: app.sql, app },
      { plugins: [consolePlugin] },
    );
  });
  afterAll(async () => {
    await server?.close();
    await guarded?.close();
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("lists the services with their open proposals, as HTML no script or foreign style may run in", async () => {
    const res = await get("/");
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(res.headers["content-security-policy"]).toMatch(
      /default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'/,
    );
    expect(res.body).toContain('<a href="/services/checkout">checkout</a>');
    expect(res.body).toMatch(/<a href="\/proposals\?service=checkout">\d+ proposed<\/a>/);
    expect(res.body).toContain('<main id="main"');
    expect(res.body).toContain('<nav aria-label="Main">');
  });

  it("escapes what telemetry names, wherever it lands", async () => {
    const res = await get("/");
    expect(res.body).not.toContain(HOSTILE);
    expect(res.body).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    const page = await get(`/services/${encodeURIComponent(HOSTILE)}`);
    expect(page.statusCode).toBe(200);
    expect(page.body).not.toContain(HOSTILE);
  });

  it("shows a service's journey graphs, proposals and error-budget chart", async () => {
    const res = await get("/services/checkout");
    expect(res.statusCode).toBe(200);
    const graphs = res.body.match(/<svg [^>]*role="img" aria-labelledby="journey-\d-caption"/g) ?? [];
    expect(graphs.length).toBeGreaterThan(0);
    // Every service the first journey calls is a box of its graph, and every call a row of its table.
    const first = journeys.find((j) => j.service === "checkout")!;
    for (const edge of first.downstream)
      expect(res.body).toContain(`<td>${edge.from}</td><td>${edge.to}</td>`);
    expect(res.body).toContain(`href="/proposals/${availability.id}"`);
    expect(res.body).toMatch(/aria-labelledby="budget-caption"/);
    expect(res.body).toMatch(/<rect class="bar"/);
  });

  it("answers an unknown service with a 404 page naming it", async () => {
    const res = await get("/services/nope");
    expect(res.statusCode).toBe(404);
    expect(res.body).toContain("no telemetry from a service named nope");
  });

  it("shows a proposal's targets, confidence and evidence, with labelled forms to decide", async () => {
    const res = await get(`/proposals/${latency.id}`);
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain(`Recommended <b>${latency.target.recommended}%</b>`);
    expect(res.body).toContain(`Confidence <b>${Math.round(latency.confidence.score * 100)}%</b>`);
    for (const part of latency.confidence.parts) expect(res.body).toContain(`<td>${part.name}</td>`);
    expect(res.body).toContain(`<code>${Handlebars.escapeExpression(latency.evidence[0]!.ref)}</code>`);
    expect(res.body).toContain('<label for="approve-target">');
    expect(res.body).toContain('id="approve-target" name="target"');
    expect(res.body).toContain('<label for="reject-reason">');
    expect(res.body).toContain(`action="/proposals/${latency.id}/approve"`);
  });

  it("shows a simulation it cannot run as a refusal beside the form", async () => {
    const res = await get(`/proposals/${latency.id}?target=99.5`);
    expect(res.statusCode).toBe(422);
    expect(res.body).toContain('class="refusal" role="alert"');
    expect(res.body).toContain("Not enough history");
    expect(res.body).toContain(`no SLI ${latency.sli.id}`);
    const bad = await get(`/proposals/${latency.id}?target=abc`);
    expect(bad.statusCode).toBe(400);
  });

  it("refuses a form posted from another site or from off the machine, and changes nothing", async () => {
    const crossSite = await server.inject({
      method: "POST",
      url: `/proposals/${latency.id}/reject`,
      headers: { ...FORM, origin: "https://evil.example" },
      payload: form({ reason: "csrf" }),
    });
    expect(crossSite.statusCode).toBe(403);
    const remote = await server.inject({
      method: "GET",
      url: "/",
      remoteAddress: "10.1.2.3",
    });
    expect(remote.statusCode).toBe(403);
    expect(remote.body).toContain("only on loopback");
    expect((await getProposal(app.sql, latency.id))?.status).toBe("proposed");
  });

  it("approves with a form: the change is committed, listed with its branch, and cannot be approved twice", async () => {
    const res = await server.inject({
      method: "POST",
      url: `/proposals/${availability.id}/approve`,
      headers: { ...FORM, origin: "http://127.0.0.1:3000" },
      payload: form({ target: String(availability.target.recommended) }),
    });
    expect(res.statusCode, res.body).toBe(303);
    expect(res.headers.location).toMatch(/^\/changes\?opened=\d+$/);
    expect(git("rev-list", "--count", "main..slo-scout/checkout").trim()).toBe("1");
    expect((await getProposal(app.sql, availability.id))?.status).toBe("committed");
    const [entry] = await listAudit(app.sql, { action: "approve" });
    expect(entry?.actor).toMatch(/^console:/);

    const listed = await get(res.headers.location as string);
    expect(listed.body).toContain('class="notice" role="status"');
    expect(listed.body).toContain("<code>slo-scout/checkout</code>");
    expect(listed.body).toContain(`href="/proposals/${availability.id}"`);
    const id = /opened=(\d+)/.exec(res.headers.location as string)![1];
    const change = await get(`/changes/${id}`);
    expect(change.statusCode).toBe(200);
    expect(change.body).toContain("<code>slos/checkout.yml</code>");

    const again = await server.inject({
      method: "POST",
      url: `/proposals/${availability.id}/approve`,
      headers: FORM,
      payload: form({}),
    });
    expect(again.statusCode).toBe(409);
    expect(again.body).toContain("already committed");
  });

  it("rejects with a reason the audit log keeps, and refuses an unknown proposal", async () => {
    const res = await server.inject({
      method: "POST",
      url: `/proposals/${latency.id}/reject`,
      headers: FORM,
      payload: form({ reason: "too noisy" }),
    });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe(`/proposals/${latency.id}?rejected=1`);
    expect((await getProposal(app.sql, latency.id))?.status).toBe("rejected");
    const [entry] = await listAudit(app.sql, { action: "reject" });
    expect(entry?.details).toMatchObject({ reason: "too noisy" });
    const page = await get(res.headers.location as string);
    expect(page.body).toContain("was rejected");
    expect(page.body).not.toContain(`action="/proposals/${latency.id}/approve"`);

    const unknown = await server.inject({
      method: "POST",
      url: "/proposals/prop-000000000000/reject",
      headers: FORM,
      payload: form({}),
    });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.body).toContain("no proposal prop-000000000000");
  });

  describe("behind JWT_SECRET", () => {
    const signIn = async (jwt: string) => {
      const res = await guarded.inject({
        method: "POST",
        url: "/login",
        headers: FORM,
        payload: form({ token: jwt }),
      });
      return { res, cookie: String(res.headers["set-cookie"] ?? "").split(";")[0]! };
    };

    it("sends a reader without a token to sign in, and refuses a bad token at the door", async () => {
      const anonymous = await guarded.inject({ method: "GET", url: "/", remoteAddress: "10.1.2.3" });
      expect(anonymous.statusCode).toBe(401);
      expect(anonymous.body).toContain('href="/login"');
      const bad = await signIn("not-a-jwt");
      expect(bad.res.statusCode).toBe(401);
      expect(bad.res.headers["set-cookie"]).toBeUndefined();
      const login = await guarded.inject({ method: "GET", url: "/login" });
      expect(login.body).toContain('<label for="login-token">');
    });

    it("lets a read token look but not decide; an approve token decides, audited under its subject", async () => {
      const reader = await signIn(await token("rita", "read"));
      expect(reader.res.statusCode).toBe(303);
      expect(reader.res.headers["set-cookie"]).toMatch(/HttpOnly; SameSite=Strict/);
      const page = await guarded.inject({
        method: "GET",
        url: "/",
        headers: { cookie: reader.cookie },
        remoteAddress: "10.1.2.3",
      });
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain("Sign out");
      const open = proposals.find(
        (p) => p.status === "proposed" && p.id !== availability.id && p.id !== latency.id,
      )!;
      const refused = await guarded.inject({
        method: "POST",
        url: `/proposals/${open.id}/reject`,
        headers: { ...FORM, cookie: reader.cookie },
        payload: form({ reason: "no" }),
      });
      expect(refused.statusCode).toBe(403);
      expect(refused.body).toContain("needs the approve scope");
      expect((await getProposal(app.sql, open.id))?.status).toBe("proposed");

      const approver = await signIn(await token("alice", "approve"));
      const decided = await guarded.inject({
        method: "POST",
        url: `/proposals/${open.id}/reject`,
        headers: { ...FORM, cookie: approver.cookie },
        payload: form({ reason: "duplicate" }),
      });
      expect(decided.statusCode).toBe(303);
      const [entry] = await listAudit(app.sql, { action: "reject", subject: open.id });
      expect(entry?.actor).toBe("console:alice");
    });
  });
});

describe("a replay on the proposal page", () => {
  it("shows the summary, the budget curve over time and the curve's numbers", () => {
    // Eight days of five-minute steps, 100 events each; a two-hour outage in the last day fails half of them
    // (the replay starts once a whole 7-day window lies behind it).
    const stepMs = 300_000;
    const start = Date.UTC(2026, 10, 15);
    const points = Array.from({ length: (8 * 86_400_000) / stepMs }, (_, i) => {
      const t = start + (i + 1) * stepMs;
      const outage = t > start + 7.5 * 86_400_000 && t <= start + 7.5 * 86_400_000 + 7_200_000;
      return { t, good: outage ? 50 : 100, total: 100 };
    });
    const simulation = simulate({ stepMs, points }, { target: 99.5, windowDays: 7, everyMs: 3_600_000 });
    expect(simulation.breaches.length).toBeGreaterThan(0);
    const html = renderPage("proposal", {
      title: latency.name!,
      p: proposalView(latency),
      open: false,
      simulateTarget: "99.5",
      simulation: simulationSection({ proposal: latency, simulation }),
    });
    expect(html).toContain("Replayed at <b>99.5%</b> over a 7-day window");
    expect(html).toMatch(/<svg [^>]*aria-labelledby="simulation-caption"/);
    const line = /<polyline class="line" points="([^"]+)"/.exec(html)?.[1] ?? "";
    expect(line.split(" ").length).toBeGreaterThan(10);
    // The curve's numbers: budget remaining per point, reaching below zero in the breach.
    const cells = [
      ...html.matchAll(/<tr><td class="n">[^<]+<\/td><td class="n">(-?[\d.,]+)<\/td><\/tr>/g),
    ].map((m) => Number(m[1]!.replaceAll(",", "")));
    expect(cells.length).toBe(line.split(" ").length);
    expect(Math.min(...cells)).toBeLessThan(0);
    expect(cells[0]).toBe(100);
  });
});
