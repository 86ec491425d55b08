import { afterAll, describe, expect, it } from "vitest";
import { BullQueue } from "../../src/store/queue-bullmq.js";
import { JobQueueUnavailableError } from "../../src/store/queue-errors.js";
import { type RedisInstance, startRedisInstance } from "../helpers/redis-instance.js";
import { requireService } from "../helpers/services.js";

/**
 * Redis stopped while jobs are queued, on redis-servers of this test's own (the shared one on 6379 must
 * stay up for the other test files). With an append-only file every accepted job runs once Redis is
 * back; while it is down, add() fails within its wait with JobQueueUnavailableError and queues nothing.
 * Without persistence a restart empties Redis: that case pins why README asks for `appendonly yes`.
 */

const instances: RedisInstance[] = [];
const redisUp = await requireService("a throwaway redis-server", async () => {
  instances.push(await startRedisInstance({ appendOnly: true }));
  instances.push(await startRedisInstance({ appendOnly: false }));
});
const [durable, ephemeral] = instances;

const JOBS = 20;
const prefix = "slo-scout-outage";

afterAll(async () => {
  for (const r of instances) await r.remove();
});

describe.runIf(redisUp)("Redis stopped while jobs are queued", () => {
  it("runs every accepted job once after Redis returns; add() meanwhile fails fast and queues nothing", async () => {
    const queue = new BullQueue({ url: durable!.url, prefix, enqueueWaitMs: 1000 });
    const ran: number[] = [];
    let open!: () => void;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    // Two jobs run (held at the gate), the rest wait in Redis through the outage.
    queue.process<number, number>(
      "work",
      async (job) => {
        await gate;
        ran.push(job.data);
        return job.data * 2;
      },
      2,
    );
    const ids: string[] = [];
    for (let i = 0; i < JOBS; i++) ids.push(await queue.add("work", i, { jobId: `job-${i}` }));

    await durable!.stop();
    const refusedAt = Date.now();
    const refused = queue.add("work", 99, { jobId: "job-99" });
    await expect(refused).rejects.toBeInstanceOf(JobQueueUnavailableError);
    // Refused after the wait when the client already saw Redis go, or at once when the socket dropped under
    // the command: either way the job is not queued.
    await expect(refused).rejects.toThrow(
      /^job queue unavailable: Redis at 127\.0\.0\.1:\d+ is unreachable \(.+\); the job was not queued; retry later( \(waited 1000 ms\))?$/,
    );
    const refusedMs = Date.now() - refusedAt;
    await expect(queue.ping()).rejects.toThrow();

    await durable!.start();
    const back = Date.now();
    open();
    const results: number[] = [];
    for (const id of ids) results.push(await queue.result<number>(id, 30_000));
    const drainedMs = Date.now() - back;
    process.stderr.write(
      `[redis outage] ${JOBS} jobs queued before the stop, ${ran.length} ran (${new Set(ran).size} distinct), ` +
        `add() during the outage refused after ${refusedMs} ms, all results ${drainedMs} ms after the restart\n`,
    );
    expect(results).toEqual(ids.map((_, i) => i * 2));
    expect([...ran].sort((a, b) => a - b)).toEqual([...Array(JOBS).keys()]);
    await expect(queue.result("job-99", 1000)).rejects.toThrow(/no job with id job-99/);
    await queue.close();
  }, 60_000);

  it("loses the queued jobs when Redis restarts without persistence", async () => {
    const queue = new BullQueue({ url: ephemeral!.url, prefix });
    const id = await queue.add("work", 1, { jobId: "lost" });
    await ephemeral!.stop();
    await ephemeral!.start();
    await expect(queue.result(id, 5000)).rejects.toThrow(/no job with id lost/);
    await queue.close();
  }, 30_000);
});
