import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { openQueue } from "../../src/store/open-queue.js";
import { BullQueue } from "../../src/store/queue-bullmq.js";
import { MemoryQueue } from "../../src/store/queue-memory.js";
import { redisUrl, requireService } from "../helpers/services.js";
import { queueContract } from "./queue.contract.js";

queueContract("in-process", async () => new MemoryQueue());

const url = redisUrl();
const redisUp = await requireService(`Redis at ${url}`, async () => {
  const r = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: 1000,
    retryStrategy: () => null,
  });
  r.on("error", () => {});
  try {
    await r.connect();
    await r.ping();
  } finally {
    r.disconnect();
  }
});

// Every queue of this run lives under one prefix, removed at the end so a shared Redis stays clean.
const prefix = `slo-scout-test-${randomUUID().slice(0, 8)}`;

describe.runIf(redisUp)("BullMQ adapter", () => {
  queueContract(`BullMQ at ${url}`, async () => new BullQueue({ url, prefix }));

  it("openQueue picks BullMQ when REDIS_URL is set", async () => {
    const q = await openQueue({ REDIS_URL: url }, { prefix });
    expect(q).toBeInstanceOf(BullQueue);
    await q.ping();
    await q.close();
  });

  afterAll(async () => {
    const r = new Redis(url);
    let cursor = "0";
    do {
      const [next, keys] = await r.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 500);
      cursor = next;
      if (keys.length > 0) await r.del(...keys);
    } while (cursor !== "0");
    r.disconnect();
  });
});

describe("openQueue", () => {
  it("picks the in-process queue without REDIS_URL", async () => {
    const q = await openQueue({});
    expect(q).toBeInstanceOf(MemoryQueue);
    await q.close();
  });

  it("reports an unreachable Redis through ping instead of hanging", async () => {
    const q = new BullQueue({ url: "redis://127.0.0.1:1", prefix });
    await expect(q.ping()).rejects.toThrow();
    await q.close();
  });
});
