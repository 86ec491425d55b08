import { randomUUID } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { JobInfo, JobQueue } from "../../src/store/ports.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What every JobQueue adapter promises; job names carry a random suffix so runs never share a queue. */
export function queueContract(name: string, open: () => Promise<JobQueue>): void {
  describe(`JobQueue contract: ${name}`, () => {
    let q: JobQueue;
    let run: string;
    const job = (n: string) => `${n}-${run}`;

    beforeEach(async () => {
      q = await open();
      run = randomUUID().slice(0, 8);
    });
    afterEach(async () => {
      await q.close();
    });

    it("runs a job and hands its result to result()", async () => {
      const seen: JobInfo<{ service: string }>[] = [];
      q.process<{ service: string }, { proposals: number }>(job("analyze"), async (j) => {
        seen.push(j);
        return { proposals: j.data.service.length };
      });
      const id = await q.add(job("analyze"), { service: "checkout" });
      await expect(q.result(id, 10_000)).resolves.toEqual({ proposals: 8 });
      expect(seen).toEqual([{ id, name: job("analyze"), data: { service: "checkout" }, attemptsMade: 0 }]);
    });

    it("runs jobs added before a worker exists once it registers", async () => {
      const id = await q.add(job("early"), 21);
      await sleep(50);
      q.process<number, number>(job("early"), async (j) => j.data * 2);
      await expect(q.result(id, 10_000)).resolves.toBe(42);
    });

    it("never runs more than `concurrency` jobs of a name at once", async () => {
      let active = 0;
      let peak = 0;
      q.process(
        job("slow"),
        async () => {
          active++;
          peak = Math.max(peak, active);
          await sleep(60);
          active--;
          return true;
        },
        2,
      );
      const ids = await Promise.all([1, 2, 3, 4, 5, 6].map((i) => q.add(job("slow"), i)));
      await Promise.all(ids.map((id) => q.result(id, 10_000)));
      // At most the limit; on a loaded machine the worker may not always fill both slots.
      expect(peak).toBeLessThanOrEqual(2);
      expect(peak).toBeGreaterThanOrEqual(1);
    });

    it("retries a failing job with exponential backoff and reports the attempt number", async () => {
      const attempts: { made: number; at: number }[] = [];
      q.process<string, string>(job("flaky"), async (j) => {
        attempts.push({ made: j.attemptsMade, at: Date.now() });
        if (j.attemptsMade < 2) throw new Error(`transient ${j.attemptsMade}`);
        return `ok after ${j.attemptsMade}`;
      });
      const id = await q.add(job("flaky"), "x", { attempts: 3, backoffMs: 100 });
      await expect(q.result(id, 10_000)).resolves.toBe("ok after 2");
      expect(attempts.map((a) => a.made)).toEqual([0, 1, 2]);
      const gap1 = attempts[1]!.at - attempts[0]!.at;
      const gap2 = attempts[2]!.at - attempts[1]!.at;
      expect(gap1).toBeGreaterThanOrEqual(90);
      expect(gap2).toBeGreaterThanOrEqual(190);
    });

    it("fails result() with the handler's error after the last attempt", async () => {
      let calls = 0;
      q.process(job("broken"), async () => {
        calls++;
        throw new Error("repository not found");
      });
      const id = await q.add(job("broken"), {}, { attempts: 2, backoffMs: 10 });
      await expect(q.result(id, 10_000)).rejects.toThrow("repository not found");
      expect(calls).toBe(2);
    });

    it("de-duplicates by job id while a job waits or runs, and runs it again once finished", async () => {
      let calls = 0;
      const first = await q.add(job("dedup"), { n: 1 }, { jobId: "analyze:checkout" });
      const again = await q.add(job("dedup"), { n: 2 }, { jobId: "analyze:checkout" });
      expect(first).toBe("analyze:checkout");
      expect(again).toBe("analyze:checkout");
      q.process<{ n: number }, number>(job("dedup"), async (j) => {
        calls++;
        return j.data.n;
      });
      await expect(q.result("analyze:checkout", 10_000)).resolves.toBe(1);
      expect(calls).toBe(1);
      await q.add(job("dedup"), { n: 3 }, { jobId: "analyze:checkout" });
      await expect(q.result("analyze:checkout", 10_000)).resolves.toBe(3);
      expect(calls).toBe(2);
    });

    it("accepts any string as a job id, digits included", async () => {
      q.process<null, string>(job("ids"), async (j) => j.id);
      for (const jobId of ["42", "a b/c%d", "pr#7"]) {
        const id = await q.add(job("ids"), null, { jobId });
        expect(id).toBe(jobId);
        await expect(q.result(id, 10_000)).resolves.toBe(jobId);
      }
    });

    it("rejects result() for an unknown job and when the wait times out", async () => {
      await expect(q.result(`missing-${run}`, 1000)).rejects.toThrow(/no job with id/);
      const id = await q.add(job("never-processed"), 1);
      await expect(q.result(id, 200)).rejects.toThrow(/did not finish within 200ms/);
    });

    it("answers ping while open and refuses work after close", async () => {
      await expect(q.ping()).resolves.toBeUndefined();
      await q.close();
      await expect(q.ping()).rejects.toThrow(/closed/);
      await expect(q.add(job("late"), 1)).rejects.toThrow(/closed/);
    });
  });
}
