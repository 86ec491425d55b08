import cors from "@fastify/cors";
import type { FastifyInstance } from "fastify";
import type { Refusal } from "../../app/outcome.js";
import { principalOf, serverAuth } from "../auth.js";
import type { ServerDeps } from "../deps.js";
import { refusalStatus } from "../refusal-status.js";
import { openApiDocument } from "./openapi.js";
import { API_PREFIX, OPERATIONS, type Operation } from "./operations.js";
import { readCursor } from "./pagination.js";

/**
 * `/api/v1`: every operation of operations.ts as a route, behind the server's auth (src/server/auth.ts),
 * with its request parsed by the operation's zod schemas (400 on a mismatch), its answer shaped by its
 * response schema, and a use case's refusal turned into the uniform error body. The document is served at
 * `/api/v1/openapi.json` without a token.
 */

const refusalBody = (r: Refusal) => ({
  error: {
    code: r.code.replaceAll("-", "_"),
    message: r.reason,
    ...(r.details ? { details: r.details } : {}),
  },
});

const fastifyPath = (path: string) => path.replace(/\{(\w+)\}/g, ":$1");

export async function apiRoutes(app: FastifyInstance, deps: ServerDeps): Promise<void> {
  const ctx = deps.app;
  if (!ctx) throw new Error("the REST API needs the application context (ServerDeps.app)");
  const auth = serverAuth(deps);

  await app.register(
    async (scope) => {
      if (deps.config.CORS_ORIGINS.length > 0) {
        await scope.register(cors, {
          origin: deps.config.CORS_ORIGINS.includes("*") ? true : deps.config.CORS_ORIGINS,
          methods: ["GET", "POST", "PATCH", "OPTIONS"],
          allowedHeaders: ["authorization", "content-type"],
          maxAge: 600,
          hideOptionsRoute: true,
        });
      }

      scope.get("/openapi.json", async () => openApiDocument());

      const route = (op: Operation) =>
        scope.route({
          method: op.method,
          url: fastifyPath(op.path),
          preHandler: async (request, reply) => {
            const needed = op.scopeFor ? op.scopeFor(request.body) : op.scope;
            await auth.requireScope(needed).call(scope, request, reply);
          },
          handler: async (request, reply) => {
            const params = op.params ? op.params.parse(request.params) : {};
            const query = op.query ? op.query.parse(request.query ?? {}) : {};
            const body = op.body ? op.body.parse(request.body ?? {}) : undefined;
            const principal = principalOf(request);
            const result = await op.handle({
              app: ctx,
              params: params as Record<string, string>,
              query,
              body,
              principal,
              actor: { login: principal.login, source: "api" },
              cursor: readCursor(query as { cursor?: string; limit?: number }),
            });
            if ("ok" in result && result.ok === false) {
              const status = refusalStatus(result.refusal.code);
              if (status >= 500) request.log.error({ refusal: result.refusal }, "use case failed");
              return reply.code(status).send(refusalBody(result.refusal));
            }
            const answer = result as { status: number; body: unknown };
            const shaped = op.response.safeParse(answer.body);
            if (!shaped.success) {
              request.log.error(
                { operation: op.id, issues: shaped.error.issues.slice(0, 3) },
                "response off its schema",
              );
              return reply.code(500).send({ error: { code: "internal", message: "internal error" } });
            }
            return reply.code(answer.status).send(shaped.data);
          },
        });
      for (const op of OPERATIONS) route(op);
    },
    { prefix: API_PREFIX },
  );
}
