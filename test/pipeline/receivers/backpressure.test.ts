import { describe, expect, it } from "vitest";
import type { TelemetryEvent } from "../../../src/core/telemetry.js";
import type { Bus, BusMessage } from "../../../src/pipeline/bus/bus.js";
import {
  IngestGate,
  Ingestor,
  IngestUnavailableError,
} from "../../../src/pipeline/receivers/backpressure.js";
import { noMetrics } from "../../../src/pipeline/receivers/metrics.js";

/** The bounded buffer: a receiver holds at most so many events waiting for the bus, then refuses. */

const event = (i: number): TelemetryEvent => ({
  schemaVersion: 1,
  kind: "log",
  service: "s",
  time: i,
  attributes: {},
  log: { body: `line ${i}`, severity: "info", attributes: {} },
});
const result = (n: number) => ({
  events: Array.from({ length: n }, (_, i) => event(i)),
  accepted: n,
  rejected: 0,
  reasons: [],
});

/** A bus whose publish waits until released, like Kafka waiting for acks. */
function slowBus(durable = true) {
  const waiting: (() => void)[] = [];
  const published: BusMessage[] = [];
  let fail: Error | undefined;
  const bus = {
    async publish(_topic: string, messages: BusMessage[]) {
      await new Promise<void>((r) => waiting.push(r));
      if (fail) throw fail;
      published.push(...messages);
    },
    saturated: () => undefined,
    durable,
  } as unknown as Bus;
  return {
    bus,
    published,
    release: () => {
      for (const r of waiting.splice(0)) r();
    },
    failWith: (e: Error) => {
      fail = e;
    },
  };
}

describe("Ingestor", () => {
  it("refuses a request that would hold more events than the buffer, and takes it again once the bus acked", async () => {
    const b = slowBus();
    const ingestor = new Ingestor(b.bus, { bufferEvents: 10, bufferBytes: 1000, metrics: noMetrics });
    const first = ingestor.hand("r", "logs", result(8));
    await expect(ingestor.hand("r", "logs", result(5))).rejects.toBeInstanceOf(IngestUnavailableError);
    expect(ingestor.overloaded("r")).toBeUndefined();
    // Another receiver has its own buffer.
    const other = ingestor.hand("other", "logs", result(8));
    b.release();
    await Promise.all([first, other]);
    expect(b.published).toHaveLength(16);
    const again = ingestor.hand("r", "logs", result(5));
    b.release();
    await again;
    expect(b.published).toHaveLength(21);
  });

  it("lets one oversized request through an empty buffer so a big body is not refused forever", async () => {
    const b = slowBus();
    const ingestor = new Ingestor(b.bus, { bufferEvents: 10, bufferBytes: 1000, metrics: noMetrics });
    const big = ingestor.hand("r", "logs", result(50));
    expect(ingestor.overloaded("r")).toBe("receiver r is full");
    b.release();
    await big;
    expect(ingestor.overloaded("r")).toBeUndefined();
  });

  it("turns a bus failure into IngestUnavailableError and frees the buffer", async () => {
    const b = slowBus();
    b.failWith(new Error("broker down"));
    const ingestor = new Ingestor(b.bus, { bufferEvents: 10, bufferBytes: 1000, metrics: noMetrics });
    const p = ingestor.hand("r", "logs", result(4));
    b.release();
    await expect(p).rejects.toThrow(/the bus did not take the data: broker down/);
    expect(ingestor.gate("r").heldEvents).toBe(0);
  });
});

describe("IngestGate bytes", () => {
  it("bounds the body bytes held at once", () => {
    const g = new IngestGate(10, 100);
    expect(g.tryTakeBytes(80)).toBe(true);
    expect(g.tryTakeBytes(30)).toBe(false);
    g.releaseBytes(80);
    expect(g.tryTakeBytes(150)).toBe(true);
    expect(g.tryTakeBytes(1)).toBe(false);
  });
});

describe("message ids from the request's content", () => {
  it("numbers a request's events by their place among the decoded ones, so a retry that refuses fewer keeps each id", async () => {
    const b = slowBus();
    let now = 0;
    const ingestor = new Ingestor(b.bus, {
      bufferEvents: 100,
      bufferBytes: 1000,
      metrics: noMetrics,
      futureToleranceMs: 10,
      now: () => now,
    });
    // Event 1 is dated 20 ms ahead: refused now, accepted by the retry 15 ms later.
    const request = () => ({ ...result(3), events: [event(0), event(20), event(2)] });
    const first = ingestor.hand("r", "logs", request(), () => "abc");
    b.release();
    await first;
    now = 15;
    const retry = ingestor.hand("r", "logs", request(), () => "abc");
    b.release();
    await retry;
    expect(b.published.map((m) => [m.id, (m.value as TelemetryEvent).time])).toEqual([
      ["abc:0", 0],
      ["abc:2", 2],
      ["abc:0", 0],
      ["abc:1", 20],
      ["abc:2", 2],
    ]);
  });

  it("never hashes the body for a bus that takes a publish whole (in-process), and gives no ids there", async () => {
    const b = slowBus(false);
    const ingestor = new Ingestor(b.bus, { bufferEvents: 100, bufferBytes: 1000, metrics: noMetrics });
    let asked = 0;
    const done = ingestor.hand("r", "logs", result(2), () => {
      asked++;
      return "abc";
    });
    b.release();
    await done;
    expect(asked).toBe(0);
    expect(b.published.map((m) => m.id)).toEqual([undefined, undefined]);
  });

  it("gives no id without a content id (the bus numbers those itself)", async () => {
    const b = slowBus();
    const ingestor = new Ingestor(b.bus, { bufferEvents: 100, bufferBytes: 1000, metrics: noMetrics });
    const done = ingestor.hand("r", "logs", result(2));
    b.release();
    await done;
    expect(b.published.map((m) => m.id)).toEqual([undefined, undefined]);
  });
});
