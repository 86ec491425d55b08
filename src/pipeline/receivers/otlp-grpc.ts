import * as grpc from "@grpc/grpc-js";
import { type Ingestor, IngestUnavailableError } from "./backpressure.js";
import { IngestHttpError } from "./body.js";
import { contentId } from "./content-id.js";
import { describeRejects } from "./decode-result.js";
import { ingestTokenMatches } from "./ingest-token.js";
import type { IngestMetrics } from "./metrics.js";
import { decodeOtlp } from "./otlp-decode.js";
import { otlpResponse } from "./otlp-http.js";
import { type OtlpSignal, otlpTypes } from "./otlp-proto.js";
import { decodeUntrusted } from "./route-context.js";

/**
 * OTLP/gRPC: the TraceService, MetricsService and LogsService `Export` methods on their own port.
 * Requests stay raw bytes through grpc-js and go through the same protobuf decoder as OTLP/HTTP;
 * INVALID_ARGUMENT for unusable data, UNAVAILABLE (which OTLP clients retry) under backpressure.
 */

export const OTLP_GRPC = "otlp-grpc";

export interface OtlpGrpcOptions {
  ingestor: Ingestor;
  metrics: IngestMetrics;
  host: string;
  /** 0 picks a free port (tests); the config's 0 means "off" and never reaches here. */
  port: number;
  maxBodyBytes: number;
  /** INGEST_TOKEN: when set, a call without `authorization: Bearer <token>` metadata is UNAUTHENTICATED. */
  ingestToken?: string;
}

export interface OtlpGrpcServer {
  port: number;
  close(): Promise<void>;
}

const identity = (b: Buffer) => b;

function serviceFor(signal: OtlpSignal): grpc.ServiceDefinition {
  return {
    Export: {
      path: otlpTypes()[signal].grpcPath,
      requestStream: false,
      responseStream: false,
      requestSerialize: identity,
      requestDeserialize: identity,
      responseSerialize: identity,
      responseDeserialize: identity,
    },
  };
}

function fail(code: grpc.status, details: string): Partial<grpc.StatusObject> {
  return { code, details };
}

export async function startOtlpGrpc(options: OtlpGrpcOptions): Promise<OtlpGrpcServer> {
  const { ingestor, metrics } = options;
  const server = new grpc.Server({
    "grpc.max_receive_message_length": options.maxBodyBytes,
  });
  for (const signal of ["traces", "metrics", "logs"] as const) {
    const handler: grpc.handleUnaryCall<Buffer, Buffer> = (call, callback) => {
      const start = performance.now();
      const answer = (status: grpc.status, value?: Buffer, details = "") => {
        metrics.request(OTLP_GRPC, grpc.status[status], (performance.now() - start) / 1000);
        if (status === grpc.status.OK) callback(null, value);
        else callback(fail(status, details));
      };
      if (options.ingestToken) {
        const given = call.metadata.get("authorization")[0];
        if (!ingestTokenMatches(typeof given === "string" ? given : undefined, options.ingestToken)) {
          answer(
            grpc.status.UNAUTHENTICATED,
            undefined,
            "send the ingest token: authorization: Bearer <token>",
          );
          return;
        }
      }
      const overloaded = ingestor.overloaded(OTLP_GRPC);
      if (overloaded) {
        answer(grpc.status.UNAVAILABLE, undefined, `${overloaded}; retry later`);
        return;
      }
      let result: ReturnType<typeof decodeOtlp>;
      try {
        result = decodeUntrusted(() => decodeOtlp(signal, call.request, "protobuf"));
      } catch (err) {
        answer(grpc.status.INVALID_ARGUMENT, undefined, (err as Error).message);
        return;
      }
      if (result.accepted === 0 && result.rejected > 0) {
        metrics.records(OTLP_GRPC, signal, "rejected", result.rejected);
        answer(grpc.status.INVALID_ARGUMENT, undefined, describeRejects(result));
        return;
      }
      ingestor
        .hand(OTLP_GRPC, signal, result, () => contentId(`grpc ${signal}`, call.request))
        .then(
          () => answer(grpc.status.OK, otlpResponse(signal, "protobuf", result) as Buffer),
          (err) => {
            if (err instanceof IngestUnavailableError)
              answer(grpc.status.UNAVAILABLE, undefined, err.message);
            else if (err instanceof IngestHttpError)
              answer(grpc.status.INVALID_ARGUMENT, undefined, err.message);
            else answer(grpc.status.INTERNAL, undefined, "internal error");
          },
        );
    };
    server.addService(serviceFor(signal), { Export: handler });
  }
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(
      `${options.host}:${options.port}`,
      grpc.ServerCredentials.createInsecure(),
      (err, bound) =>
        err
          ? reject(new Error(`OTLP/gRPC could not listen on ${options.host}:${options.port}: ${err.message}`))
          : resolve(bound),
    );
  });
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
        // In-flight exports get a moment; a stuck client must not hold shutdown forever.
        setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 2000).unref();
      }),
  };
}
