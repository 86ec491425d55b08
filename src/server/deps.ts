import type { Logger } from "pino";
import type { AppContext } from "../app/context.js";
import type { Config } from "../config.js";
import type { Bus } from "../pipeline/bus/bus.js";
import type { BlobStore, JobQueue, Sql, VectorStore } from "../store/ports.js";

/**
 * What the server and every route plugin get: the config and the opened backends. A backend left out
 * (a test, or a process that does not need it) is simply not checked by /health.
 */
export interface ServerDeps {
  config: Config;
  logger: Logger;
  sql?: Sql;
  blobs?: BlobStore;
  vectors?: VectorStore;
  bus?: Bus;
  queue?: JobQueue;
  /** The application layer the bots and the REST API call; absent in receiver-only tests. */
  app?: AppContext;
}
