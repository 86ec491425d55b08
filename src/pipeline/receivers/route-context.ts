import type { FastifyRequest } from "fastify";
import type { Ingestor } from "./backpressure.js";
import { IngestHttpError } from "./body.js";
import type { DecodeResult } from "./decode-result.js";
import type { IngestMetrics } from "./metrics.js";

/** How a receiver writes an error body (OTLP wants google.rpc.Status; others plain JSON or text). */
export type RouteErrorFormat = (
  req: FastifyRequest,
  status: number,
  message: string,
) => { contentType: string; body: string | Buffer };

/** What every receiver route gets from the plugin that mounts it. */
export interface ReceiverContext {
  ingestor: Ingestor;
  metrics: IngestMetrics;
  maxBodyBytes: number;
  /** Record key naming a Fluent Bit record's service (dotted path into the record). */
  fluentBitServiceKey: string;
  /**
   * Runs a decoder on untrusted bytes. Decoders are pure, so anything they throw was caused by the input:
   * it becomes a 400 with the decoder's reason rather than a 500.
   */
  decode(fn: () => DecodeResult): DecodeResult;
}

export function decodeUntrusted(fn: () => DecodeResult): DecodeResult {
  try {
    return fn();
  } catch (err) {
    if (err instanceof IngestHttpError) throw err;
    const status = (err as { statusCode?: number }).statusCode;
    throw new IngestHttpError(
      status && status >= 400 && status < 500 ? status : 400,
      `malformed body: ${(err as Error)?.message ?? String(err)}`,
    );
  }
}

declare module "fastify" {
  interface FastifyContextConfig {
    /** Receiver name for the ingest metrics and the error format. */
    receiver?: string;
    errorFormat?: RouteErrorFormat;
  }
}
