import { createHash } from "node:crypto";
import type { FastifyRequest } from "fastify";

/**
 * A request's content id: 96 bits of the SHA-256 of the raw body as received (still compressed: a client's
 * retry resends the same bytes, and there are fewer of them to hash) and of what else decides the events
 * decoded from it (`context`: the receiver's route and the headers it reads). Its events are published as
 * `<content id>:<index>` (see Ingestor.hand), so a client's retry of a request the receiver refused after
 * part of it reached Kafka carries the ids of the first copy and the stream stage drops what was written
 * (see `Run.recentIds` in src/pipeline/run.ts). Two different bodies share an id with a chance of about
 * n²/2⁹⁷ among n requests; a byte-identical body sent twice on purpose is taken as a retry.
 */
export function contentId(context: string, body: Uint8Array): string {
  return createHash("sha256").update(context).update("\0").update(body).digest("base64url").slice(0, 16);
}

/** Headers an HTTP receiver's decoding depends on besides the body. */
const DECODING_HEADERS = ["content-type", "content-encoding", "fluent-tag", "x-fluent-tag"] as const;

/** The content id of an HTTP receiver's request: its URL, the headers that shape decoding, and its body. */
export function httpContentId(req: FastifyRequest): string {
  const context = [req.url, ...DECODING_HEADERS.map((h) => String(req.headers[h] ?? ""))].join("\n");
  return contentId(context, req.body as Buffer);
}
