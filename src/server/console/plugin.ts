import { userInfo } from "node:os";
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import { approve } from "../../app/approve.js";
import type { AppContext } from "../../app/context.js";
import { type Actor, reject } from "../../app/proposals.js";
import type { ServerDeps } from "../deps.js";
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
 */

/** Longest reason a reject form may carry (the audit log keeps it). */
const MAX_REASON = 500;
/** A path segment longer than this is no service, proposal or change SLO-Scout made. */
const MAX_ID = 200;

const isLoopback = (ip: string) => /^(127\.|::1$|::ffff:127\.)/.test(ip);

/**
 * A cross-site page must not be able to post a form here on a reader's behalf (the console on loopback
 * is otherwise open to any page the reader visits): a browser names the form's origin, and it must be
 * this server's own.
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

function send(reply: FastifyReply, result: PageResult): FastifyReply {
  return reply
    .code(result.status)
    .header("content-type", "text/html; charset=utf-8")
    .header("content-security-policy", contentSecurityPolicy())
    .header("x-content-type-options", "nosniff")
    .header("referrer-policy", "same-origin")
    .header("cache-control", "no-store")
    .send(renderPage(result.page, result.data));
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
  const actor = (): Actor => ({ source: "console", login: userInfo().username });

  server.addContentTypeParser(
    "application/x-www-form-urlencoded",
    { parseAs: "string" },
    (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(String(body)))),
  );

  server.addHook("onRequest", async (request, reply) => {
    if (!isLoopback(request.ip)) {
      return send(
        reply,
        refusalPage({
          code: "unauthorized",
          reason:
            "the console answers only on loopback (127.0.0.1, ::1); open it on the machine SLO-Scout runs on",
        }),
      );
    }
    if (request.method === "POST" && !sameOrigin(request)) {
      return send(
        reply,
        refusalPage({ code: "unauthorized", reason: "a form from another site may not act here" }),
      );
    }
    const params = Object.values((request.params ?? {}) as Record<string, string>);
    if (params.some((p) => p.length > MAX_ID)) {
      return send(
        reply,
        refusalPage({ code: "bad-request", reason: `a name or id is at most ${MAX_ID} characters` }),
      );
    }
  });

  server.setErrorHandler(async (err, request, reply) => {
    request.log.error({ err }, "console page failed");
    return send(
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

  server.get("/", async (_request, reply) => send(reply, await homePage(app)));

  server.get<{ Params: { service: string } }>("/services/:service", async (request, reply) =>
    send(reply, await servicePage(app, request.params.service)),
  );

  server.get<{ Querystring: { service?: string; status?: string } }>("/proposals", async (request, reply) =>
    send(reply, await proposalsPage(app, request.query)),
  );

  server.get<{ Params: { id: string }; Querystring: { target?: string; rejected?: string } }>(
    "/proposals/:id",
    async (request, reply) =>
      send(
        reply,
        await proposalPage(app, request.params.id, {
          ...(request.query.target !== undefined ? { target: request.query.target } : {}),
          rejected: request.query.rejected === "1",
        }),
      ),
  );

  server.post<{ Params: { id: string } }>("/proposals/:id/approve", async (request, reply) => {
    const id = request.params.id;
    const back = { href: `/proposals/${encodeURIComponent(id)}`, text: "Back to the proposal" };
    const text = field(request.body, "target")?.trim() ?? "";
    const target = text === "" ? undefined : Number(text);
    if (target !== undefined && !Number.isFinite(target))
      return send(
        reply,
        refusalPage({ code: "bad-request", reason: `the target must be a number, got "${text}"` }, back),
      );
    const result = await approve(app, [id], { by: actor(), ...(target !== undefined ? { target } : {}) });
    if (!result.ok) return send(reply, refusalPage(result.refusal, back));
    const opened = result.value[0]?.change.id;
    return reply.redirect(opened ? `/changes?opened=${encodeURIComponent(opened)}` : "/changes", 303);
  });

  server.post<{ Params: { id: string } }>("/proposals/:id/reject", async (request, reply) => {
    const id = request.params.id;
    const back = { href: `/proposals/${encodeURIComponent(id)}`, text: "Back to the proposal" };
    const reason = field(request.body, "reason")?.trim() ?? "";
    if (reason.length > MAX_REASON)
      return send(
        reply,
        refusalPage({ code: "bad-request", reason: `a reason is at most ${MAX_REASON} characters` }, back),
      );
    const result = await reject(app, id, { by: actor(), ...(reason ? { reason } : {}) });
    if (!result.ok) return send(reply, refusalPage(result.refusal, back));
    return reply.redirect(`/proposals/${encodeURIComponent(id)}?rejected=1`, 303);
  });

  server.get<{ Querystring: { opened?: string } }>("/changes", async (request, reply) =>
    send(reply, await changesPage(app, request.query)),
  );

  server.get<{ Params: { id: string } }>("/changes/:id", async (request, reply) =>
    send(reply, await changePage(app, request.params.id)),
  );
};
