import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import pino from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { buildServer, type RoutePlugin } from "../../src/server/app.js";
import { isLoopback, principalOf, scopesOf, serverAuth } from "../../src/server/auth.js";

const logger = pino({ level: "silent" });
const SECRET = "a-test-secret-that-is-long-enough-0123456789";

/** Two routes guarded the way the API and the console guard theirs. */
const guarded: RoutePlugin = async (app, deps) => {
  const auth = serverAuth(deps);
  app.get("/t/read", { preHandler: auth.requireScope("read") }, async (req) => ({
    who: principalOf(req).login,
  }));
  app.post("/t/approve", { preHandler: auth.requireScope("approve") }, async (req) => ({
    who: principalOf(req).login,
    scopes: [...principalOf(req).scopes].sort(),
  }));
};

const opened: FastifyInstance[] = [];
async function server(env: Record<string, string>) {
  const app = await buildServer(
    { config: loadConfig(env, "/nonexistent/slo-scout.yml"), logger },
    { plugins: [guarded] },
  );
  opened.push(app);
  return app;
}
afterEach(async () => {
  while (opened.length) await opened.pop()!.close();
});

const hs256 = (claims: Record<string, unknown>, opts: { secret?: string; exp?: string } = {}) =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256" })
    .setSubject("alice")
    .setIssuedAt()
    .setExpirationTime(opts.exp ?? "5m")
    .sign(new TextEncoder().encode(opts.secret ?? SECRET));

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe("HS256 (JWT_SECRET)", () => {
  it("401 without a token, with a bad signature, expired or malformed; the error body says why", async () => {
    const app = await server({ JWT_SECRET: SECRET });
    const none = await app.inject({ method: "GET", url: "/t/read" });
    expect(none.statusCode).toBe(401);
    expect(none.json()).toEqual({
      error: { code: "unauthorized", message: expect.stringMatching(/bearer token/) },
    });
    const badSig = await app.inject({
      method: "GET",
      url: "/t/read",
      headers: bearer(await hs256({ scope: "read" }, { secret: `${SECRET}-other` })),
    });
    expect(badSig.statusCode).toBe(401);
    expect(badSig.json().error.message).toMatch(/signature/);
    const expired = await app.inject({
      method: "GET",
      url: "/t/read",
      headers: bearer(await hs256({ scope: "read" }, { exp: "-1m" })),
    });
    expect(expired.statusCode).toBe(401);
    expect(expired.json().error.message).toMatch(/expired/);
    const junk = await app.inject({ method: "GET", url: "/t/read", headers: bearer("not.a.jwt") });
    expect(junk.statusCode).toBe(401);
  });

  it("403 with a read-only token on approve; 2xx with approve, and admin includes both", async () => {
    const app = await server({ JWT_SECRET: SECRET });
    const read = await hs256({ scope: "read" });
    expect((await app.inject({ method: "GET", url: "/t/read", headers: bearer(read) })).json()).toEqual({
      who: "alice",
    });
    const denied = await app.inject({ method: "POST", url: "/t/approve", headers: bearer(read) });
    expect(denied.statusCode).toBe(403);
    expect(denied.json()).toEqual({
      error: { code: "forbidden", message: expect.stringMatching(/approve scope/) },
    });
    const approver = await app.inject({
      method: "POST",
      url: "/t/approve",
      headers: bearer(await hs256({ scope: "openid approve" })),
    });
    expect(approver.statusCode).toBe(200);
    expect(approver.json().scopes).toEqual(["approve", "read"]);
    const admin = await app.inject({
      method: "POST",
      url: "/t/approve",
      headers: bearer(await hs256({ scope: "admin" })),
    });
    expect(admin.json().scopes).toEqual(["admin", "approve", "read"]);
    const noScope = await app.inject({ method: "GET", url: "/t/read", headers: bearer(await hs256({})) });
    expect(noScope.statusCode).toBe(403);
  });

  it("checks JWT_AUDIENCE and JWT_ISSUER when they are set", async () => {
    const app = await server({
      JWT_SECRET: SECRET,
      JWT_AUDIENCE: "slo-scout",
      JWT_ISSUER: "https://idp.test",
    });
    const sign = (aud: string, iss: string) =>
      new SignJWT({ scope: "read" })
        .setProtectedHeader({ alg: "HS256" })
        .setSubject("bob")
        .setAudience(aud)
        .setIssuer(iss)
        .setExpirationTime("5m")
        .sign(new TextEncoder().encode(SECRET));
    const ok = await app.inject({
      method: "GET",
      url: "/t/read",
      headers: bearer(await sign("slo-scout", "https://idp.test")),
    });
    expect(ok.json()).toEqual({ who: "bob" });
    const wrongAud = await app.inject({
      method: "GET",
      url: "/t/read",
      headers: bearer(await sign("other", "https://idp.test")),
    });
    expect(wrongAud.statusCode).toBe(401);
    expect(wrongAud.json().error.message).toMatch(/aud/);
    const wrongIss = await app.inject({
      method: "GET",
      url: "/t/read",
      headers: bearer(await sign("slo-scout", "https://evil.test")),
    });
    expect(wrongIss.statusCode).toBe(401);
    expect(wrongIss.json().error.message).toMatch(/iss/);
  });
});

describe("a JWKS served by the test (JWT_JWKS_URL)", () => {
  let jwks: Server;
  let url: string;
  const keys: Record<string, CryptoKey> = {};
  beforeAll(async () => {
    const published: Record<string, unknown>[] = [];
    for (const alg of ["RS256", "ES256"] as const) {
      const pair = await generateKeyPair(alg);
      keys[alg] = pair.privateKey;
      published.push({ ...(await exportJWK(pair.publicKey)), kid: `k-${alg}`, alg, use: "sig" });
    }
    jwks = createServer((_req, res) => {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ keys: published }));
    });
    await new Promise<void>((r) => jwks.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`;
  });
  afterAll(() => new Promise<void>((r) => jwks.close(() => r())));

  const signed = (alg: "RS256" | "ES256", scope: string, key = keys[alg]!) =>
    new SignJWT({ scope })
      .setProtectedHeader({ alg, kid: `k-${alg}` })
      .setSubject(`svc-${alg}`)
      .setExpirationTime("5m")
      .sign(key);

  it("accepts RS256 and ES256 tokens signed by its keys, scopes apply the same", async () => {
    const app = await server({ JWT_JWKS_URL: url });
    for (const alg of ["RS256", "ES256"] as const) {
      const ok = await app.inject({
        method: "POST",
        url: "/t/approve",
        headers: bearer(await signed(alg, "approve")),
      });
      expect(ok.statusCode, alg).toBe(200);
      expect(ok.json().who).toBe(`svc-${alg}`);
      const denied = await app.inject({
        method: "POST",
        url: "/t/approve",
        headers: bearer(await signed(alg, "read")),
      });
      expect(denied.statusCode, alg).toBe(403);
    }
  });

  it("401 for a key not in the set, and for an HS256 token even with the right secret elsewhere", async () => {
    const app = await server({ JWT_JWKS_URL: url, JWT_SECRET: SECRET });
    const stranger = (await generateKeyPair("RS256")).privateKey;
    const res = await app.inject({
      method: "GET",
      url: "/t/read",
      headers: bearer(await signed("RS256", "read", stranger)),
    });
    expect(res.statusCode).toBe(401);
    const hs = await app.inject({
      method: "GET",
      url: "/t/read",
      headers: bearer(await hs256({ scope: "read" })),
    });
    expect(hs.statusCode).toBe(401);
  });

  it("503 with Retry-After when the key set cannot be fetched (the token is not the caller's fault)", async () => {
    const app = await server({ JWT_JWKS_URL: "http://127.0.0.1:9/jwks.json" });
    const res = await app.inject({
      method: "GET",
      url: "/t/read",
      headers: bearer(await signed("RS256", "read")),
    });
    expect(res.statusCode).toBe(503);
    expect(res.headers["retry-after"]).toBe("5");
    expect(res.json().error.code).toBe("unavailable");
  });
});

describe("without JWT_SECRET or JWT_JWKS_URL", () => {
  it("answers loopback callers with every scope and refuses others with 403", async () => {
    const app = await server({});
    const local = await app.inject({ method: "POST", url: "/t/approve" });
    expect(local.json()).toEqual({ who: "local", scopes: ["admin", "approve", "read"] });
    const remote = await app.inject({ method: "GET", url: "/t/read", remoteAddress: "10.1.2.3" });
    expect(remote.statusCode).toBe(403);
    expect(remote.json().error.message).toMatch(/only on loopback.*JWT_SECRET or JWT_JWKS_URL/);
  });

  it("says so once at start", async () => {
    const lines: string[] = [];
    const config = loadConfig({}, "/nonexistent/slo-scout.yml");
    const log = pino({ level: "warn" }, { write: (l: string) => lines.push(l) });
    for (let i = 0; i < 2; i++) serverAuth({ config, logger: log });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/answer only clients on loopback/);
  });
});

describe("helpers", () => {
  it("knows loopback addresses", () => {
    for (const ip of ["127.0.0.1", "127.4.5.6", "::1", "::ffff:127.0.0.1"])
      expect(isLoopback(ip), ip).toBe(true);
    for (const ip of ["10.0.0.1", "::ffff:10.0.0.1", "128.0.0.1", "fe80::1"])
      expect(isLoopback(ip), ip).toBe(false);
  });
  it("reads scopes from a space-separated claim and ignores unknown ones", () => {
    expect([...scopesOf({ scope: "openid  read profile" })]).toEqual(["read"]);
    expect(scopesOf({ scope: 42 }).size).toBe(0);
  });
});
