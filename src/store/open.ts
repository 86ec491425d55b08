import type { Config } from "../config.js";
import type { BlobStore, Sql } from "./ports.js";

/**
 * Chooses each store's adapter from the config alone (mostly a URL scheme). Each opener is separate so a
 * process opens only what it needs; `openStores` opens the three data stores together.
 */

/** PGlite for `pglite://…` (embedded default), a `pg` pool for `postgres://…`. */
export async function openSql(config: Pick<Config, "DATABASE_URL">): Promise<Sql> {
  const url = config.DATABASE_URL;
  if (url.startsWith("pglite://")) {
    const { openPglite } = await import("./sql/pglite.js");
    return openPglite(url);
  }
  if (url.startsWith("postgres://") || url.startsWith("postgresql://")) {
    const { openPostgres } = await import("./sql/postgres.js");
    return openPostgres(url);
  }
  throw new Error(`DATABASE_URL must start with pglite:// or postgres:// (e.g. pglite://./.slo-scout/db)`);
}

/** Files for `file://…` (embedded default), S3 or an S3-compatible server for `s3://bucket[/prefix]`. */
export async function openBlobs(
  config: Pick<Config, "BLOB_URL"> &
    Partial<Pick<Config, "S3_ENDPOINT" | "S3_REGION" | "S3_FORCE_PATH_STYLE">>,
): Promise<BlobStore> {
  const url = config.BLOB_URL;
  if (url.startsWith("file://")) {
    const { openFileBlobs } = await import("./blobs/file.js");
    return openFileBlobs(url);
  }
  if (url.startsWith("s3://")) {
    const { openS3Blobs } = await import("./blobs/s3.js");
    return openS3Blobs({
      url,
      ...(config.S3_ENDPOINT ? { endpoint: config.S3_ENDPOINT } : {}),
      ...(config.S3_REGION ? { region: config.S3_REGION } : {}),
      ...(config.S3_FORCE_PATH_STYLE !== undefined ? { forcePathStyle: config.S3_FORCE_PATH_STYLE } : {}),
    });
  }
  throw new Error(`BLOB_URL must start with file:// or s3:// (e.g. file://./.slo-scout/blobs)`);
}
