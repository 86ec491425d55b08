import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import protobuf from "protobufjs";
import { decodeContentEncoding, IngestHttpError, mediaType } from "./body.js";
import { httpContentId } from "./content-id.js";
import { type DecodeResult, describeRejects } from "./decode-result.js";
import { decodeOtlp, type OtlpEncoding } from "./otlp-decode.js";
import { type OtlpSignal, otlpTypes } from "./otlp-proto.js";
import type { ReceiverContext, RouteErrorFormat } from "./route-context.js";

/**
 * OTLP/HTTP: `POST /v1/traces|metrics|logs`, protobuf or JSON, optionally gzip. Answers in the request's
 * encoding: 200 with `partial_success` when some records were rejected, 400 when none could be used,
 * 413 over the size limit, 415 for other content types, 503 + Retry-After when the bus cannot take more.
 */

export const OTLP_HTTP = "otlp-http";

const REJECTED_FIELD: Record<OtlpSignal, string> = {
  traces: "rejectedSpans",
  metrics: "rejectedDataPoints",
  logs: "rejectedLogRecords",
};

/** google.rpc.Status, the OTLP failure body (code, message; details are not used). */
const RpcStatus = new protobuf.Type("Status")
  .add(new protobuf.Field("code", 1, "int32"))
  .add(new protobuf.Field("message", 2, "string"));

/** gRPC code numbers for the HTTP statuses this receiver answers with, as google.rpc.Status wants. */
function rpcCode(httpStatus: number): number {
  if (httpStatus === 400 || httpStatus === 415) return 3; // INVALID_ARGUMENT
  if (httpStatus === 413 || httpStatus === 429) return 8; // RESOURCE_EXHAUSTED
  if (httpStatus === 503) return 14; // UNAVAILABLE
  return 13; // INTERNAL
}

export function otlpEncodingOf(contentType: string | undefined): OtlpEncoding | undefined {
  const type = mediaType(contentType);
  if (type === "application/x-protobuf" || type === "application/protobuf") return "protobuf";
  if (type === "application/json") return "json";
  return undefined;
}

/** OTLP failure bodies are a google.rpc.Status in the request's encoding (JSON when it is unknown). */
export const otlpErrorFormat: RouteErrorFormat = (req, status, message) => {
  const code = rpcCode(status);
  if (otlpEncodingOf(req.headers["content-type"]) === "protobuf") {
    return {
      contentType: "application/x-protobuf",
      body: Buffer.from(RpcStatus.encode(RpcStatus.create({ code, message })).finish()),
    };
  }
  return { contentType: "application/json", body: JSON.stringify({ code, message }) };
};

/** The success body: an Export…ServiceResponse, with `partial_success` set only when records were rejected. */
export function otlpResponse(
  signal: OtlpSignal,
  encoding: OtlpEncoding,
  result: DecodeResult,
): Buffer | string {
  const partial =
    result.rejected > 0
      ? { [REJECTED_FIELD[signal]]: result.rejected, errorMessage: describeRejects(result) }
      : undefined;
  if (encoding === "json") {
    // int64 fields are decimal strings in OTLP JSON.
    const body = partial
      ? { partialSuccess: { ...partial, [REJECTED_FIELD[signal]]: String(result.rejected) } }
      : {};
    return JSON.stringify(body);
  }
  const type = otlpTypes()[signal].response;
  return Buffer.from(type.encode(type.create(partial ? { partialSuccess: partial } : {})).finish());
}

export function registerOtlpHttp(app: FastifyInstance, ctx: ReceiverContext): void {
  const signals: OtlpSignal[] = ["traces", "metrics", "logs"];
  for (const signal of signals) {
    app.post(
      `/v1/${signal}`,
      { config: { receiver: OTLP_HTTP, errorFormat: otlpErrorFormat } },
      async (req: FastifyRequest, reply: FastifyReply) => {
        const encoding = otlpEncodingOf(req.headers["content-type"]);
        if (!encoding) {
          throw new IngestHttpError(
            415,
            `unsupported Content-Type ${JSON.stringify(req.headers["content-type"] ?? "")}; use application/x-protobuf or application/json`,
          );
        }
        const raw = await decodeContentEncoding(
          req.body as Buffer,
          req.headers["content-encoding"] as string | undefined,
          ctx.maxBodyBytes,
        );
        const result = ctx.decode(() => decodeOtlp(signal, raw, encoding));
        if (result.accepted === 0 && result.rejected > 0) {
          ctx.metrics.records(OTLP_HTTP, signal, "rejected", result.rejected);
          throw new IngestHttpError(400, describeRejects(result));
        }
        await ctx.ingestor.hand(OTLP_HTTP, signal, result, () => httpContentId(req));
        reply
          .code(200)
          .type(encoding === "json" ? "application/json" : "application/x-protobuf")
          .send(otlpResponse(signal, encoding, result));
      },
    );
  }
}
