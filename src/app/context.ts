import type { Logger } from "pino";
import pino from "pino";
import type { Config } from "../config.js";
import type { Bus } from "../pipeline/bus/bus.js";
import { migrate } from "../store/migrate.js";
import { openBlobs, openSql, openVectors } from "../store/open.js";
import { openQueue } from "../store/open-queue.js";
import type { BlobStore, GitHost, JobQueue, Sql, VectorStore } from "../store/ports.js";

/**
 * The composition root: the configured backends, opened once per process and shared by the server, every
 * CLI command, the bots and the API. The database is opened (and migrated) at once because every use case
 * needs it; the rest open on first use, so a command that never touches the bus never connects to Kafka.
 */
export interface AppContext {
  readonly config: Config;
  readonly logger: Logger;
  readonly sql: Sql;
  blobs(): Promise<BlobStore>;
  vectors(): Promise<VectorStore>;
  bus(): Promise<Bus>;
  queue(): Promise<JobQueue>;
  gitHost(): Promise<GitHost>;
  /** Epoch ms; a seam for tests that need a fixed clock. */
  now(): number;
  /** Closes whatever was opened, newest first; safe to call twice. */
  close(): Promise<void>;
}

export interface OpenAppOptions {
  logger?: Logger;
  /** Replaces an adapter the config would choose (tests; an embedding host that owns the connection). */
  gitHost?: GitHost;
  now?: () => number;
}

type Closable = { close(): Promise<void> };

export async function openApp(config: Config, options: OpenAppOptions = {}): Promise<AppContext> {
  const logger = options.logger ?? pino({ level: config.LOG_LEVEL });
  const opened: Closable[] = [];
  const once = <T extends Closable>(open: () => Promise<T>, owned = true): (() => Promise<T>) => {
    let pending: Promise<T> | undefined;
    return () => {
      pending ??= open().then((it) => {
        if (owned) opened.push(it);
        return it;
      });
      return pending;
    };
  };

  const sql = await openSql(config);
  opened.push(sql);
  try {
    const { applied } = await migrate(sql);
    if (applied.length > 0) logger.info({ applied }, "applied database migrations");
  } catch (err) {
    await sql.close().catch(() => {});
    throw err;
  }

  let closed = false;
  return {
    config,
    logger,
    sql,
    blobs: once(() => openBlobs(config)),
    vectors: once(() => openVectors(config, sql)),
    bus: once(async () => {
      const { openServingBus } = await import("../pipeline/bus/open.js");
      return openServingBus(config, sql, logger);
    }),
    queue: once(() => openQueue(config, { logger })),
    gitHost: options.gitHost
      ? once(async () => options.gitHost!, false)
      : once(async () => {
          const { openGitHost } = await import("../store/githost/open.js");
          return openGitHost(config);
        }),
    now: options.now ?? Date.now,
    async close() {
      if (closed) return;
      closed = true;
      for (const it of opened.reverse()) {
        await it.close().catch((err) => logger.warn({ err }, "closing a backend failed"));
      }
    },
  };
}

/**
 * The same context with changes going to `host`: a bot's conversation happens in one hosted repository
 * (a GitLab project, a GitHub installation's repository), which its approvals and reviews read and write.
 * Everything else is shared; closing it closes nothing (the original owns the backends).
 */
export function withGitHost(app: AppContext, host: GitHost): AppContext {
  return { ...app, gitHost: async () => host, close: async () => {} };
}
