import cors from "@fastify/cors";
import rateLimit from "@fastify/rate-limit";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Registry } from "prom-client";
import type { Config } from "../../config.js";
import { errorBody } from "../../core/error-body.js";
import type { Bus } from "../bus/bus.js";
import { Ingestor, IngestUnavailableError } from "./backpressure.js";
import { IngestHttpError, readBody } from "./body.js";
import { registerFaro } from "./faro.js";
import { registerFluentBit } from "./fluentbit.js";
import { ingestTokenMatches } from "./ingest-token.js";
import { ingestMetrics, noMetrics } from "./metrics.js";
import { startOtlpGrpc } from "./otlp-grpc.js";
import { registerOtlpHttp } from "./otlp-http.js";
import { registerRemoteWrite } from "./remote-write.js";
import { decodeUntrusted, type ReceiverContext } from "./route-context.js";

/**
 * Mounts every telemetry receiver on a Fastify server: OTLP/HTTP, remote_write, Fluent Bit and Faro,
 * plus OTLP/gRPC on its own port. The receivers live in one encapsulated context, so their raw-body
 * parsing, CORS, rate limit and error format touch no other route.
 */

export type ReceiverConfig = Pick<
  Config,
  | "MAX_BODY_BYTES"
  | "CORS_ORIGINS"
  | "RATE_LIMIT_PER_MINUTE"
  | "INGEST_BUFFER_EVENTS"
  | "OTLP_GRPC_PORT"
  | "HOST"
  | "FLUENTBIT_SERVICE_KEY"
  | "INGEST_TOKEN"
  | "FUTURE_TOLERANCE"
>;

export interface ReceiverDeps {
  bus: Bus;
  config: ReceiverConfig;
  /** The server's prom-client registry; the ingest counters are registered on it. */
  registry?: Registry;
  /** Test hook: when false, the gRPC receiver is not started even if OTLP_GRPC_PORT is set. */
  grpc?: boolean;
}

/** The server's error codes for the statuses receivers answer with. */
const ERROR_CODES: Record<number, string> = {
  400: "bad_request",
  401: "unauthorized",
  413: "payload_too_large",
  415: "unsupported_media_type",
  429: "too_many_requests",
  500: "internal",
  503: "unavailable",
};

interface HeldBytes {
  ingestHeldBytes?: { receiver: string; n: number };
}

export async function receiversPlugin(app: FastifyInstance, deps: ReceiverDeps): Promise<void> {
  const { config } = deps;
  const metrics = deps.registry ? ingestMetrics(deps.registry) : noMetrics;
  const ingestor = new Ingestor(deps.bus, {
    bufferEvents: config.INGEST_BUFFER_EVENTS,
    bufferBytes: 4 * config.MAX_BODY_BYTES,
    metrics,
    futureToleranceMs: config.FUTURE_TOLERANCE,
  });
  const ctx: ReceiverContext = {
    ingestor,
    metrics,
    maxBodyBytes: config.MAX_BODY_BYTES,
    fluentBitServiceKey: config.FLUENTBIT_SERVICE_KEY,
    decode: decodeUntrusted,
  };

  await app.register(async (scope) => {
    // Browsers post Faro and OTLP JSON cross-origin; the other receivers ignore the CORS headers.
    if (config.CORS_ORIGINS.length > 0) {
      const anyOrigin = config.CORS_ORIGINS.includes("*");
      await scope.register(cors, {
        // Browsers send OTLP JSON with sendBeacon, a credentialed request: the origin must be echoed.
        origin: anyOrigin ? true : config.CORS_ORIGINS,
        credentials: true,
        methods: ["POST", "OPTIONS"],
        allowedHeaders: [
          "content-type",
          "content-encoding",
          "authorization",
          "x-faro-session-id",
          "x-api-key",
          "traceparent",
        ],
        maxAge: 600,
        hideOptionsRoute: true,
      });
    }
    if (config.RATE_LIMIT_PER_MINUTE) {
      await scope.register(rateLimit, {
        max: config.RATE_LIMIT_PER_MINUTE,
        timeWindow: 60_000,
        keyGenerator: (req) => req.ip,
      });
    }

    // Receivers need the raw bytes (protobuf, snappy, msgpack, gzip): one parser for every type, bounded.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", (req, payload, done) => {
      const receiver = req.routeOptions.config.receiver ?? "unknown";
      const declared = Number(req.headers["content-length"]);
      // Oversized is final (413, not retried); only a body that could be taken waits on the buffer.
      const reserve = Number.isFinite(declared) && declared <= config.MAX_BODY_BYTES ? declared : 0;
      if (reserve > 0 && !ingestor.gate(receiver).tryTakeBytes(reserve)) {
        done(
          new IngestUnavailableError(`receiver ${receiver} is reading too many bodies; retry later`),
          undefined,
        );
        return;
      }
      if (reserve > 0) (req as HeldBytes).ingestHeldBytes = { receiver, n: reserve };
      readBody(payload, config.MAX_BODY_BYTES, Number.isFinite(declared) ? declared : undefined).then(
        (body) => done(null, body),
        (err) => done(err, undefined),
      );
    });

    scope.addHook("onRequest", async (req) => {
      if (config.INGEST_TOKEN && req.method !== "OPTIONS") {
        if (!ingestTokenMatches(req.headers.authorization, config.INGEST_TOKEN))
          throw new IngestHttpError(401, "send the ingest token: Authorization: Bearer <INGEST_TOKEN>");
      }
      const receiver = req.routeOptions.config.receiver;
      const overloaded = receiver && req.method !== "OPTIONS" ? ingestor.overloaded(receiver) : undefined;
      if (overloaded) throw new IngestUnavailableError(`${overloaded}; retry later`);
    });
    scope.addHook("preHandler", async (req) => {
      // A request without a body never ran the parser; handlers still get a Buffer.
      if (req.body === undefined || req.body === null) req.body = Buffer.alloc(0);
    });
    const releaseHeld = (req: FastifyRequest) => {
      const held = (req as HeldBytes).ingestHeldBytes;
      if (!held) return;
      (req as HeldBytes).ingestHeldBytes = undefined;
      ingestor.gate(held.receiver).releaseBytes(held.n);
    };
    // A client that hangs up mid-body gets no response: its bytes are released here instead.
    scope.addHook("onRequestAbort", async (req) => releaseHeld(req));
    scope.addHook("onResponse", async (req, reply) => {
      releaseHeld(req);
      const receiver = req.routeOptions.config.receiver;
      if (receiver) metrics.request(receiver, reply.statusCode, reply.elapsedTime / 1000);
    });
    scope.setErrorHandler(async (err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
      let status = typeof err.statusCode === "number" && err.statusCode >= 400 ? err.statusCode : 500;
      let message = err.message;
      if (err instanceof IngestUnavailableError) {
        status = 503;
        reply.header("retry-after", String(err.retryAfter));
      } else if (err instanceof IngestHttpError && err.retryAfter !== undefined) {
        reply.header("retry-after", String(err.retryAfter));
      } else if (status === 500) {
        req.log.error({ err }, "receiver failed");
        message = "internal error";
      }
      const format = req.routeOptions.config.errorFormat;
      if (format) {
        const { contentType, body } = format(req, status, message);
        return reply.code(status).type(contentType).send(body);
      }
      return reply
        .code(status)
        .type("application/json")
        .send(JSON.stringify(errorBody(ERROR_CODES[status] ?? "error", message)));
    });

    registerOtlpHttp(scope, ctx);
    registerRemoteWrite(scope, ctx);
    registerFluentBit(scope, ctx);
    registerFaro(scope, ctx);
  });

  if (deps.grpc !== false && config.OTLP_GRPC_PORT !== 0) {
    let grpc: Awaited<ReturnType<typeof startOtlpGrpc>> | undefined;
    app.addHook("onReady", async () => {
      grpc = await startOtlpGrpc({
        ingestor,
        metrics,
        host: config.HOST,
        port: config.OTLP_GRPC_PORT,
        maxBodyBytes: config.MAX_BODY_BYTES,
        ...(config.INGEST_TOKEN ? { ingestToken: config.INGEST_TOKEN } : {}),
      });
    });
    app.addHook("onClose", async () => {
      await grpc?.close();
    });
  }
}
