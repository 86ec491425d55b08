import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from "@aws-sdk/client-s3";
import type { BlobStore } from "../ports.js";
import { checkKey } from "./keys.js";

/**
 * Blobs in S3 or an S3-compatible server (MinIO, Ceph, s3rver). Credentials come from the AWS SDK's
 * default chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a profile, or the instance role); there are no
 * built-in fallbacks, so a misconfigured deployment fails loudly instead of writing somewhere unexpected.
 */

export interface S3BlobOptions {
  /** `s3://bucket` or `s3://bucket/prefix`. */
  url: string;
  endpoint?: string;
  region?: string;
  forcePathStyle?: boolean;
  /** Overrides the default credential chain (tests, programmatic use). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Attempts per request, the SDK's retry with backoff included (default 3). */
  maxAttempts?: number;
}

export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!m?.[1]) throw new Error(`not an s3:// URL: ${url} (e.g. s3://my-bucket/slo-scout)`);
  const prefix = m[2]!.replace(/\/+$/, "");
  return { bucket: m[1], prefix: prefix ? `${prefix}/` : "" };
}

function errorName(err: unknown): string {
  const e = err as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
  return e.name ?? e.Code ?? "";
}

export function openS3Blobs(options: S3BlobOptions): BlobStore {
  const { bucket, prefix } = parseS3Url(options.url);
  const config: S3ClientConfig = {
    region: options.region ?? "us-east-1",
    maxAttempts: options.maxAttempts ?? 3,
    // S3-compatible servers often lack the newer default checksums; only send them where S3 requires them.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.forcePathStyle !== undefined ? { forcePathStyle: options.forcePathStyle } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  };
  const client = new S3Client(config);
  const where = `s3://${bucket}${options.endpoint ? ` at ${options.endpoint}` : ""}`;

  const fail = (op: string, key: string | undefined, err: unknown): never => {
    const name = errorName(err);
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (
      name === "NoSuchBucket" ||
      (name === "NotFound" && key === undefined) ||
      (status === 404 && key === undefined)
    ) {
      throw new Error(`blob store: bucket "${bucket}" does not exist ${where} (create it or fix BLOB_URL)`);
    }
    const detail = (err as Error).message || name || String(err);
    throw new Error(`blob store: ${op}${key ? ` ${key}` : ""} on ${where} failed: ${detail}`);
  };

  return {
    async put(key, body, contentType) {
      const Key = prefix + checkKey(key);
      try {
        await client.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key,
            Body: body,
            ...(contentType ? { ContentType: contentType } : {}),
          }),
        );
      } catch (err) {
        fail("put", key, err);
      }
    },
    async get(key) {
      const Key = prefix + checkKey(key);
      try {
        const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key }));
        if (!out.Body) return Buffer.alloc(0);
        return Buffer.from(await out.Body.transformToByteArray());
      } catch (err) {
        if (errorName(err) === "NoSuchKey") return undefined;
        return fail("get", key, err);
      }
    },
    async list(keyPrefix) {
      const keys: string[] = [];
      let token: string | undefined;
      try {
        do {
          const out = await client.send(
            new ListObjectsV2Command({
              Bucket: bucket,
              Prefix: prefix + keyPrefix,
              ContinuationToken: token,
            }),
          );
          for (const o of out.Contents ?? []) if (o.Key) keys.push(o.Key.slice(prefix.length));
          token = out.IsTruncated ? out.NextContinuationToken : undefined;
        } while (token);
      } catch (err) {
        fail("list", undefined, err);
      }
      return keys.sort();
    },
    async delete(key) {
      const Key = prefix + checkKey(key);
      try {
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key }));
      } catch (err) {
        fail("delete", key, err);
      }
    },
    async ping() {
      try {
        await client.send(new HeadBucketCommand({ Bucket: bucket }));
      } catch (err) {
        fail("ping", undefined, err);
      }
    },
    async close() {
      client.destroy();
    },
  };
}
