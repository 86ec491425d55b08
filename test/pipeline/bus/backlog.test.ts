import { describe, expect, it } from "vitest";
import { BacklogMonitor } from "../../../src/pipeline/bus/backlog.js";

/** A monitor on a hand-moved clock whose measurements return (or throw) what the test queues. */
function monitor(max = 100, hang = false) {
  let now = 1_000_000;
  const results: (number | Error)[] = [];
  const logged: { level: string; msg: string }[] = [];
  const log = (level: string) => (_fields: unknown, msg?: string) =>
    void logged.push({ level, msg: msg ?? "" });
  const m = new BacklogMonitor({
    topic: "raw-telemetry",
    group: `g-${Math.random()}`,
    max,
    measure: async () => {
      if (hang) return new Promise<number>(() => {});
      const r = results.shift();
      if (r === undefined) throw new Error("no measurement queued");
      if (r instanceof Error) throw r;
      return r;
    },
    staleMs: 10_000,
    timeoutMs: 20,
    logger: { error: log("error"), info: log("info") },
    now: () => now,
  });
  return {
    m,
    logged,
    measure: async (r: number | Error) => {
      results.push(r);
      await m.refresh();
    },
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe("BacklogMonitor", () => {
  it("names a backlog over the bound and nothing at or under it", async () => {
    const t = monitor(100);
    expect(t.m.over()).toBeUndefined();
    await t.measure(100);
    expect(t.m.over()).toBeUndefined();
    await t.measure(101);
    expect(t.m.over()).toMatch(/101 messages behind on raw-telemetry \(INGEST_MAX_BACKLOG 100\)/);
  });

  it("keeps the last measurement through a failing one while fresh, then stops holding ingest back, saying so", async () => {
    const t = monitor(100);
    await t.measure(500);
    t.advance(1000);
    await t.measure(new Error("broker unavailable"));
    expect(t.m.over()).toMatch(/500 messages behind/);
    expect(t.logged).toEqual([
      {
        level: "error",
        msg: expect.stringMatching(/cannot measure it; the last measurement holds for 10 s/),
      },
    ]);
    t.advance(9_500);
    await t.measure(new Error("broker unavailable"));
    // Older than 10 s: unknown, so not enforced; not logged again within the minute.
    expect(t.m.current()).toBeUndefined();
    expect(t.m.over()).toBeUndefined();
    expect(t.logged).toHaveLength(1);
    t.advance(60_000);
    await t.measure(new Error("broker unavailable"));
    expect(t.logged).toHaveLength(2);
    await t.measure(20);
    expect(t.m.current()).toBe(20);
    expect(t.logged.at(-1)).toEqual({ level: "info", msg: "pipeline backlog: measured again" });
  });

  it("counts a measurement that never answers as failed", async () => {
    const t = monitor(100, true);
    await t.m.refresh();
    expect(t.m.current()).toBeUndefined();
    expect(t.logged).toEqual([{ level: "error", msg: expect.stringMatching(/cannot measure it/) }]);
  });
});
