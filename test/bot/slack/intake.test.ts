import { describe, expect, it } from "vitest";
import { intake } from "../../../src/bot/slack/intake.js";

describe("intake", () => {
  it("takes commands in arrival order, at most `concurrency` at once, never on the turn they were acked", async () => {
    const taken = intake(2);
    let running = 0;
    let most = 0;
    const started: number[] = [];
    const releases: (() => void)[] = [];
    const runs = [0, 1, 2, 3, 4].map((i) =>
      taken.run(async () => {
        started.push(i);
        running++;
        most = Math.max(most, running);
        await new Promise<void>((resolve) => releases.push(resolve));
        running--;
      }),
    );
    // Nothing starts on the ack's own turn, so the rest of a burst is read and acked first.
    await Promise.resolve();
    expect(started).toEqual([]);
    while (started.length < 5) {
      await new Promise((resolve) => setImmediate(resolve));
      releases.shift()?.();
    }
    releases.forEach((release) => void release());
    await Promise.all(runs);
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(most).toBe(2);
  });

  it("drains every command taken, failed ones included, and a failure frees its slot", async () => {
    const taken = intake(1);
    const done: string[] = [];
    const failed = taken.run(async () => {
      throw new Error("chat.postMessage failed");
    });
    const later = taken.run(async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      done.push("later");
    });
    await taken.drain();
    expect(done).toEqual(["later"]);
    await expect(failed).rejects.toThrow("chat.postMessage failed");
    await later;
  });
});
