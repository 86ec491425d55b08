import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { ZodError } from "zod";
import { errorBody } from "../core/error-body.js";
import { BusSaturatedError } from "../pipeline/bus/bus.js";

/**
 * One error body (src/core/error-body.ts) for every 4xx/5xx the server sends. Route code throws an
 * HttpError (or lets a ZodError / BusSaturatedError escape) and the handler here shapes the reply.
 */

export class HttpError extends Error {
  override name = "HttpError";
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    /** Extra response headers, e.g. Retry-After on a 503. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const badRequest = (message: string) => new HttpError(400, "bad_request", message);
export const unauthorized = (message: string) => new HttpError(401, "unauthorized", message);
/** A 503 that tells the client when to retry; OTLP and remote_write clients honour Retry-After. */
export const unavailable = (message: string, retryAfterSeconds = 5) =>
  new HttpError(503, "unavailable", message, { "retry-after": String(retryAfterSeconds) });

const CODES: Record<number, string> = {
  400: "bad_request",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  405: "method_not_allowed",
  406: "not_acceptable",
  408: "request_timeout",
  409: "conflict",
  413: "payload_too_large",
  414: "uri_too_long",
  415: "unsupported_media_type",
  422: "unprocessable_entity",
  429: "too_many_requests",
  500: "internal",
  502: "bad_gateway",
  503: "unavailable",
  504: "gateway_timeout",
};

function zodMessage(err: ZodError): string {
  const issue = err.issues[0];
  if (!issue) return "invalid payload";
  const path = issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
  const more = err.issues.length > 1 ? ` (and ${err.issues.length - 1} more)` : "";
  return `${path}${issue.message}${more}`;
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setNotFoundHandler((request, reply) => {
    reply
      .code(404)
      .send(errorBody("not_found", `no route for ${request.method} ${request.url.split("?")[0]}`));
  });

  app.setErrorHandler((err: FastifyError | Error, request, reply) => {
    if (err instanceof HttpError) {
      reply.headers(err.headers);
      if (err.statusCode >= 500) request.log.warn({ err }, err.message);
      return reply.code(err.statusCode).send(errorBody(err.code, err.message));
    }
    if (err instanceof ZodError) {
      return reply.code(400).send(errorBody("invalid_payload", zodMessage(err)));
    }
    if (err instanceof BusSaturatedError) {
      request.log.warn({ err }, "bus saturated; asking the client to retry");
      reply.header("retry-after", "1");
      return reply.code(503).send(errorBody("unavailable", "ingest buffer is full; retry shortly"));
    }
    const fe = err as FastifyError;
    if (fe.validation) {
      return reply.code(400).send(errorBody("bad_request", fe.message));
    }
    const status = typeof fe.statusCode === "number" && fe.statusCode >= 400 ? fe.statusCode : 500;
    if (status >= 500) {
      request.log.error({ err }, "request failed");
      // Internal details stay in the log; the client gets a stable, non-leaking message.
      return reply.code(status).send(errorBody(CODES[status] ?? "internal", "internal error"));
    }
    return reply.code(status).send(errorBody(CODES[status] ?? "error", fe.message));
  });
}

/**
 * Errors fastify's router raises before any handler or hook (a malformed URL, a path parameter over the
 * router's length limit): the same uniform body instead of fastify's own.
 */
export function frameworkError(err: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const status =
    typeof err.statusCode === "number" && err.statusCode >= 400 && err.statusCode < 500
      ? err.statusCode
      : 400;
  reply.code(status).send(errorBody(CODES[status] ?? "bad_request", err.message));
}
