import { describe, expect, it } from "vitest";
import { TumblingWindows } from "../../src/pipeline/windows.js";

const HOUR = 3_600_000;
const counter = (lateness = 10 * 60_000) =>
  new TumblingWindows<{ n: number }>({ windowMs: HOUR, allowedLatenessMs: lateness }, () => ({ n: 0 }));

function counts(w: TumblingWindows<{ n: number }>) {
  return Object.fromEntries(w.takeChanges().map((e) => [`${e.key}@${e.windowStart / HOUR}`, e.state.n]));
}

describe("TumblingWindows", () => {
  it("assigns events to hour windows by event time, whatever the arrival order", () => {
    const w = counter();
    for (const t of [HOUR + 5, 10, HOUR + 1, 20, 2 * HOUR - 1]) w.add("svc", t, (s) => s.n++);
    expect(counts(w)).toEqual({ "svc@0": 2, "svc@1": 3 });
  });

  it("applies late events within the allowed lateness to the closed window", () => {
    const w = counter(10 * 60_000);
    w.add("a", 10, (s) => s.n++);
    w.add("a", HOUR + 5 * 60_000, (s) => s.n++);
    expect(w.add("a", 20, (s) => s.n++)).toBe("applied");
    expect(counts(w)).toEqual({ "a@0": 2, "a@1": 1 });
    expect(w.droppedLate).toBe(0);
  });

  it("counts events past the lateness as dropped-late instead of applying them", () => {
    const w = counter(10 * 60_000);
    w.add("a", 10, (s) => s.n++);
    w.add("a", HOUR + 11 * 60_000, (s) => s.n++);
    expect(w.add("a", 30, (s) => s.n++)).toBe("late");
    expect(w.droppedLate).toBe(1);
    expect(counts(w)).toEqual({ "a@0": 1, "a@1": 1 });
  });

  it("hands out each contribution once and starts its windows again from empty", () => {
    const w = counter(0);
    w.add("a", 10, (s) => s.n++);
    w.add("a", HOUR + 1, (s) => s.n++);
    expect(counts(w)).toEqual({ "a@0": 1, "a@1": 1 });
    expect(w.takeChanges()).toHaveLength(0);
    w.add("a", HOUR + 2, (s) => s.n++);
    expect(counts(w)).toEqual({ "a@1": 1 });
    expect(w.size).toBe(0);
  });
});
