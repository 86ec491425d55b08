import type { Logger } from "pino";
import type { Config } from "../config.js";
import type { JobQueue } from "./ports.js";
import { MemoryQueue } from "./queue-memory.js";

/** BullMQ on Redis when REDIS_URL is set, otherwise the in-process queue. */
export async function openQueue(
  config: Pick<Config, "REDIS_URL">,
  options: { prefix?: string; logger?: Pick<Logger, "error"> } = {},
): Promise<JobQueue> {
  if (!config.REDIS_URL) return new MemoryQueue();
  const { BullQueue } = await import("./queue-bullmq.js");
  return new BullQueue({
    url: config.REDIS_URL,
    prefix: options.prefix,
    onError: (err, where) => options.logger?.error({ err, ...where }, "job queue: Redis error"),
  });
}
