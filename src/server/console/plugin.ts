import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import { approve } from "../../app/approve.js";
import type { AppContext } from "../../app/context.js";
import { type Actor, reject } from "../../app/proposals.js";
import { type Auth, bearerToken, principalOf, serverAuth } from "../auth.js";
import type { ServerDeps } from "../deps.js";
import { HttpError } from "../errors.js";
import {
  changePage,
  changesPage,
  homePage,
  type PageResult,
  proposalPage,
  proposalsPage,
  refusalPage,
  servicePage,
} from "./pages.js";
import { contentSecurityPolicy, renderPage } from "./render-html.js";

/**
 * The web console at `/`: server-rendered pages over the application layer's use cases, readable without
 * JavaScript. Reading is GET; approving and rejecting are HTML forms posted to the same use cases the
 * chats and the API call (POST → use case → 303 to the page that shows the result, or the refusal page
 * with its reason and a matching status).
 *
 * Access is the API's (src/server/auth.ts): pages need the `read` scope and the forms `approve`. Without
 * JWT_SECRET / JWT_JWKS_URL only loopback callers get in. With them, a browser cannot add an
 * Authorization header to a link or a form, so `/login` keeps the token in an HttpOnly, SameSite=Strict
 * cookie and the console hands it to the shared check as the bearer token it is.
 */

/** Longest reason a reject form may carry (the audit log keeps it). */
const MAX_REASON = 500;
/** A path segment longer than this is no service, proposal or change SLO-Scout made. */
const MAX_ID = 200;
const TOKEN_COOKIE = "slo_scout_token";

/**
 * A cross-site page must not be able to post a form here on a reader's behalf (on loopback the console
 * trusts whoever reaches it): a browser names the form's origin, and it must be this server's own.
 */
function sameOrigin(request: FastifyRequest): boolean {
  const site = request.headers["sec-fetch-site"];
  if (site !== undefined && site !== "same-origin" && site !== "none") return false;
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}

function cookieToken(request: FastifyRequest): string | undefined {
  for (const pair of (request.headers.cookie ?? "").split(/;\s*/)) {
    const eq = pair.indexOf("=");
    if (eq > 0 && pair.slice(0, eq) === TOKEN_COOKIE)
      return decodeURIComponent(pair.slice(eq + 1)) || undefined;
  }
  return undefined;
}

function tokenCookie(request: FastifyRequest, token: string, maxAge?: number): string {
  return [
    `${TOKEN_COOKIE}=${encodeURIComponent(token)}`,
    "Path=/",
    "HttpOnly",
    "SameSite=Strict",
    ...(request.protocol === "https" ? ["Secure"] : []),
    ...(maxAge !== undefined ? [`Max-Age=${maxAge}`] : []),
  ].join("; ");
}

const field = (body: unknown, name: string): string | undefined => {
  const value = (body as Record<string, unknown> | undefined)?.[name];
  return typeof value === "string" ? value : undefined;
};

/** A route plugin (src/server/routes.ts mounts it), typed here without importing that list. */
export const consolePlugin: FastifyPluginAsync<ServerDeps> = async (server, deps) => {
  // A server without the application layer (the receivers' own tests) has nothing for the console to show.
  if (!deps.app) return;
  const app: AppContext = deps.app;
  const auth: Auth = serverAuth(deps);
  const read = { preHandler: auth.requireScope("read") };
  const decide = { preHandler: auth.requireScope("approve") };
  const actor = (request: FastifyRequest): Actor => ({
    source: "console",
    login: principalOf(request).login,
  });

  /** Every page gets the frame's data: who is signed in, and whether signing in is a thing here. */
  const send = (request: FastifyRequest, reply: FastifyReply, result: PageResult): FastifyReply =>
    reply
      .code(result.status)
      .header("content-type", "text/html; charset=utf-8")
      .header("content-security-policy", contentSecurityPolicy())
      .header("x-content-type-options", "nosniff")
      .header("referrer-policy", "same-origin")
      .header("cache-control", "no-store")
      .send(
        renderPage(result.page, {
          ...result.data,
          jwt: auth.mode === "jwt",
          signedIn: auth.mode === "jwt" && cookieToken(request) !== undefined,
        }),
      );

  server.addContentTypeParser(
    "application/x-www-form-urlencoded",
    { parseAs: "string" },
    (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(String(body)))),
  );

  server.addHook("onRequest", async (request, reply) => {
    const token = cookieToken(request);
    if (token && !bearerToken(request)) request.headers.authorization = `Bearer ${token}`;
    if (request.method === "POST" && !sameOrigin(request)) {
      return send(
        request,
        reply,
        refusalPage({ code: "unauthorized", reason: "a form from another site may not act here" }),
      );
    }
    const params = Object.values((request.params ?? {}) as Record<string, string>);
    if (params.some((p) => p.length > MAX_ID)) {
      return send(
        request,
        reply,
        refusalPage({ code: "bad-request", reason: `a name or id is at most ${MAX_ID} characters` }),
      );
    }
  });

  server.setErrorHandler(async (err, request, reply) => {
    // The shared auth's 401/403/503: the page says why, and where to sign in.
    if (err instanceof HttpError) {
      reply.headers(err.headers);
      const page = refusalPage(
        { code: err.statusCode >= 500 ? "internal" : "unauthorized", reason: err.message },
        auth.mode === "jwt" ? { href: "/login", text: "Sign in with a token" } : undefined,
      );
      return send(request, reply, { ...page, status: err.statusCode });
    }
    request.log.error({ err }, "console page failed");
    return send(
      request,
      reply,
      refusalPage(
        {
          code: "internal",
          reason: `the page failed unexpectedly; the server log has the details under request id ${request.id}`,
          correlationId: request.id,
        },
        { href: "/", text: "Back to the services" },
      ),
    );
  });

  server.get("/login", async (request, reply) =>
    send(request, reply, { status: 200, page: "login", data: { title: "Sign in", nav: "login" } }),
  );

  server.post("/login", async (request, reply) => {
    const token = field(request.body, "token")?.trim() ?? "";
    if (auth.mode === "jwt") {
      if (!token) throw new HttpError(401, "unauthorized", "paste a token to sign in");
      request.headers.authorization = `Bearer ${token}`;
      // A bad token is refused here, with its reason, rather than on the next page.
      await auth.authenticate(request);
      reply.header("set-cookie", tokenCookie(request, token));
    }
    return reply.redirect("/", 303);
  });

  server.post("/logout", async (request, reply) =>
    reply.header("set-cookie", tokenCookie(request, "", 0)).redirect("/login", 303),
  );

  server.get("/", read, async (request, reply) => send(request, reply, await homePage(app)));

  server.get<{ Params: { service: string } }>("/services/:service", read, async (request, reply) =>
    send(request, reply, await servicePage(app, request.params.service)),
  );

  server.get<{ Querystring: { service?: string; status?: string } }>(
    "/proposals",
    read,
    async (request, reply) => send(request, reply, await proposalsPage(app, request.query)),
  );

  server.get<{ Params: { id: string }; Querystring: { target?: string; rejected?: string } }>(
    "/proposals/:id",
    read,
    async (request, reply) =>
      send(
        request,
        reply,
        await proposalPage(app, request.params.id, {
          ...(request.query.target !== undefined ? { target: request.query.target } : {}),
          rejected: request.query.rejected === "1",
        }),
      ),
  );

  server.post<{ Params: { id: string } }>("/proposals/:id/approve", decide, async (request, reply) => {
    const id = request.params.id;
    const back = { href: `/proposals/${encodeURIComponent(id)}`, text: "Back to the proposal" };
    const text = field(request.body, "target")?.trim() ?? "";
    const target = text === "" ? undefined : Number(text);
    if (target !== undefined && !Number.isFinite(target))
      return send(
        request,
        reply,
        refusalPage({ code: "bad-request", reason: `the target must be a number, got "${text}"` }, back),
      );
    const result = await approve(app, [id], {
      by: actor(request),
      ...(target !== undefined ? { target } : {}),
    });
    if (!result.ok) return send(request, reply, refusalPage(result.refusal, back));
    const opened = result.value[0]?.change.id;
    return reply.redirect(opened ? `/changes?opened=${encodeURIComponent(opened)}` : "/changes", 303);
  });

  server.post<{ Params: { id: string } }>("/proposals/:id/reject", decide, async (request, reply) => {
    const id = request.params.id;
    const back = { href: `/proposals/${encodeURIComponent(id)}`, text: "Back to the proposal" };
    const reason = field(request.body, "reason")?.trim() ?? "";
    if (reason.length > MAX_REASON)
      return send(
        request,
        reply,
        refusalPage({ code: "bad-request", reason: `a reason is at most ${MAX_REASON} characters` }, back),
      );
    const result = await reject(app, id, { by: actor(request), ...(reason ? { reason } : {}) });
    if (!result.ok) return send(request, reply, refusalPage(result.refusal, back));
    return reply.redirect(`/proposals/${encodeURIComponent(id)}?rejected=1`, 303);
  });

  server.get<{ Querystring: { opened?: string } }>("/changes", read, async (request, reply) =>
    send(request, reply, await changesPage(app, request.query)),
  );

  server.get<{ Params: { id: string } }>("/changes/:id", read, async (request, reply) =>
    send(request, reply, await changePage(app, request.params.id)),
  );
};
