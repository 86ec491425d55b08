import type { Readable } from "node:stream";
import { promisify } from "node:util";
import { gunzip as gunzipCb, inflate as inflateCb } from "node:zlib";

const gunzip = promisify(gunzipCb);
const inflate = promisify(inflateCb);

/** An HTTP answer a receiver gives for bad input or overload; `retryAfter` is in seconds. */
export class IngestHttpError extends Error {
  override name = "IngestHttpError";
  constructor(
    readonly statusCode: number,
    message: string,
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

/**
 * Reads a request body into memory, refusing (413) as soon as it passes `limit` bytes so an oversized
 * upload never sits in memory whole.
 */
export function readBody(stream: Readable, limit: number, declaredLength?: number): Promise<Buffer> {
  if (declaredLength !== undefined && declaredLength > limit) {
    stream.resume();
    return Promise.reject(tooLarge(limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    stream.on("data", (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        chunks.length = 0;
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    });
    stream.on("end", () => {
      if (!failed) resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
    stream.on("error", (err) => {
      if (!failed) {
        failed = true;
        reject(new IngestHttpError(400, `could not read the request body: ${err.message}`));
      }
    });
  });
}

function tooLarge(limit: number): IngestHttpError {
  return new IngestHttpError(413, `request body exceeds the limit of ${limit} bytes`);
}

/**
 * Undoes `Content-Encoding`. The decompressed size is capped at `limit` too, which is what stops a gzip
 * bomb: zlib stops inflating at `maxOutputLength` instead of filling memory.
 */
export async function decodeContentEncoding(
  body: Buffer,
  contentEncoding: string | undefined,
  limit: number,
): Promise<Buffer> {
  const encoding = (contentEncoding ?? "").trim().toLowerCase();
  if (encoding === "" || encoding === "identity") return body;
  try {
    if (encoding === "gzip" || encoding === "x-gzip") return await gunzip(body, { maxOutputLength: limit });
    if (encoding === "deflate") return await inflate(body, { maxOutputLength: limit });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE" || err instanceof RangeError) {
      throw new IngestHttpError(413, `decompressed body exceeds the limit of ${limit} bytes`);
    }
    throw new IngestHttpError(400, `invalid ${encoding} body: ${(err as Error).message}`);
  }
  throw new IngestHttpError(
    415,
    `unsupported Content-Encoding ${JSON.stringify(encoding)} (use gzip or none)`,
  );
}

/** The media type of a Content-Type header, lowercased, without parameters. */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? "").split(";")[0]!.trim().toLowerCase();
}
