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

describe("MemoryQueue", () => {
  it("fills every concurrency slot at once", async () => {
    const q = new MemoryQueue();
    let active = 0;
    let peak = 0;
    q.process(
      "work",
      async () => {
        active++;
        peak = Math.max(peak, active);
        await new Promise((r) => setTimeout(r, 20));
        active--;
      },
      3,
    );
    const ids = await Promise.all([1, 2, 3, 4, 5, 6, 7].map((i) => q.add("work", i)));
    await Promise.all(ids.map((id) => q.result(id)));
    expect(peak).toBe(3);
    await q.close();
  });

  it("fails the waiters of unfinished jobs when it closes", async () => {
    const q = new MemoryQueue();
    const id = await q.add("nobody-processes-this", 1);
    const waiting = q.result(id, 10_000);
    await q.close();
    await expect(waiting).rejects.toThrow(/closed before job/);
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
