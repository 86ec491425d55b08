import type { Config } from "../config.js";
import type { BlobStore, Sql, VectorStore } from "./ports.js";

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

/**
 * pgvector in the relational store for `pgvector://` (default; exact search on a Postgres without the
 * extension), Milvus for `milvus://host:19530[/collection]` (behind the pending_vectors queue in `sql`).
 * The pgvector store shares `sql` and leaves closing it to the caller.
 */
export async function openVectors(config: Pick<Config, "VECTOR_URL">, sql: Sql): Promise<VectorStore> {
  const url = config.VECTOR_URL;
  if (url.startsWith("pgvector:")) {
    const { openPgVectors } = await import("./vectors/pgvector.js");
    return openPgVectors(sql);
  }
  if (url.startsWith("milvus://")) {
    const { openMilvusVectors } = await import("./vectors/milvus.js");
    const { withPendingVectors } = await import("./vectors/pending.js");
    // Milvus can be down while the database is up: its vectors wait in the database meanwhile.
    return withPendingVectors(sql, await openMilvusVectors({ url }));
  }
  throw new Error(`VECTOR_URL must start with pgvector:// or milvus:// (e.g. milvus://localhost:19530)`);
}

export interface Stores {
  sql: Sql;
  blobs: BlobStore;
  vectors: VectorStore;
  close(): Promise<void>;
}

/**
 * Opens the relational, blob and vector stores, applying pending migrations first so a fresh embedded
 * database works on first start. Whatever opened is closed again if a later store fails to open.
 */
export async function openStores(
  config: Pick<Config, "DATABASE_URL" | "BLOB_URL" | "VECTOR_URL"> &
    Partial<Pick<Config, "S3_ENDPOINT" | "S3_REGION" | "S3_FORCE_PATH_STYLE">>,
  options: { migrate?: boolean } = {},
): Promise<Stores> {
  const sql = await openSql(config);
  let blobs: BlobStore | undefined;
  try {
    if (options.migrate ?? true) {
      const { migrate } = await import("./migrate.js");
      await migrate(sql);
    }
    blobs = await openBlobs(config);
    const vectors = await openVectors(config, sql);
    const opened = blobs;
    return {
      sql,
      blobs: opened,
      vectors,
      async close() {
        await Promise.allSettled([vectors.close(), opened.close()]);
        await sql.close();
      },
    };
  } catch (err) {
    await blobs?.close().catch(() => {});
    await sql.close().catch(() => {});
    throw err;
  }
}
