import { randomUUID } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { TelemetryEvent } from "../../../src/core/telemetry.js";
import { type Bus, type BusBatch, type ConsumedMessage, TOPICS } from "../../../src/pipeline/bus/bus.js";

/** Polls until `check` is true; the message says what was still missing. */
export async function waitFor(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

interface Seen {
  key: string;
  value: { seq: number; key: string; run: string };
  offset: string;
  partition: number;
}

/**
 * What every Bus adapter promises, run against each adapter this machine can reach. Topic and group names
 * carry a random suffix so runs against a shared Kafka do not see each other's messages.
 */
export function busContract(name: string, open: () => Promise<Bus>, timeoutMs = 10_000): void {
  describe(`Bus contract: ${name}`, () => {
    let bus: Bus;
    let run: string;
    const topic = () => `contract-${run}`;

    beforeEach(async () => {
      bus = await open();
      run = randomUUID().slice(0, 8);
    });
    afterEach(async () => {
      await bus.close();
    });

    const collect = (into: Seen[]) => async (batch: BusBatch<Seen["value"]>) => {
      for (const m of batch.messages) {
        into.push({ key: m.key, value: m.value, offset: m.offset, partition: batch.partition });
      }
    };

    const messages = (keys: string[], perKey: number) => {
      const out: { key: string; value: Seen["value"] }[] = [];
      for (let seq = 0; seq < perKey; seq++)
        for (const key of keys) out.push({ key, value: { seq, key, run } });
      return out;
    };

    it("answers ping while open", async () => {
      await expect(bus.ping()).resolves.toBeUndefined();
    });

    it("delivers every message once with its key, and keeps one key's messages in order", async () => {
      const seen: Seen[] = [];
      await bus.subscribe(topic(), `g-${run}`, collect(seen));
      const keys = ["checkout", "payment", "inventory", "cart", "frontend"];
      const sent = messages(keys, 40);
      await bus.publish(topic(), sent.slice(0, 100));
      await bus.publish(topic(), sent.slice(100));
      await waitFor(() => seen.length >= sent.length, `${sent.length} messages`, timeoutMs);
      expect(seen.length).toBe(sent.length);
      for (const key of keys) {
        const ofKey = seen.filter((s) => s.key === key);
        expect(ofKey.map((s) => s.value.seq)).toEqual([...Array(40).keys()]);
        expect(ofKey.every((s) => s.value.key === key)).toBe(true);
        // One key lives on one partition, where offsets only grow.
        expect(new Set(ofKey.map((s) => s.partition)).size).toBe(1);
        const offsets = ofKey.map((s) => BigInt(s.offset));
        expect(offsets.every((o, i) => i === 0 || o > offsets[i - 1]!)).toBe(true);
      }
    });

    it("gives each consumer group every message", async () => {
      const a: Seen[] = [];
      const b: Seen[] = [];
      await bus.subscribe(topic(), `a-${run}`, collect(a));
      await bus.subscribe(topic(), `b-${run}`, collect(b));
      await bus.publish(topic(), messages(["s1", "s2", "s3"], 10));
      await waitFor(() => a.length >= 30 && b.length >= 30, "both groups", timeoutMs);
      const ids = (l: Seen[]) => l.map((s) => `${s.key}/${s.value.seq}`).sort();
      expect(ids(a)).toEqual(ids(b));
      expect(new Set(ids(a)).size).toBe(30);
    });

    it("redelivers a batch whose handler threw, and keeps the key's order", async () => {
      const seen: Seen[] = [];
      let failures = 0;
      await bus.subscribe<Seen["value"]>(topic(), `g-${run}`, async (batch) => {
        if (failures === 0 && batch.messages.some((m) => m.value.seq === 3)) {
          failures++;
          throw new Error("handler failed once");
        }
        await collect(seen)(batch);
      });
      await bus.publish(topic(), messages(["only-key"], 8));
      await waitFor(() => seen.length >= 8, "redelivery after a failure", timeoutMs);
      expect(failures).toBe(1);
      // At least once: every message arrived, in order, with nothing committed past the failed one.
      const seqs = seen.map((s) => s.value.seq);
      expect([...new Set(seqs)]).toEqual([...Array(8).keys()]);
      expect(seqs.every((s, i) => i === 0 || s >= seqs[i - 1]!)).toBe(true);
    });

    it("resumes a group from its committed offset after the consumer stops", async () => {
      const first: Seen[] = [];
      const sub = await bus.subscribe(topic(), `g-${run}`, collect(first));
      await bus.publish(topic(), messages(["k"], 5));
      await waitFor(() => first.length >= 5, "first 5", timeoutMs);
      await sub.stop();
      await bus.publish(topic(), messages(["k"], 8).slice(5));
      const second: Seen[] = [];
      await bus.subscribe(topic(), `g-${run}`, collect(second));
      await waitFor(() => second.length >= 3, "the 3 published while stopped", timeoutMs);
      expect(second.map((s) => s.value.seq)).toEqual([5, 6, 7]);
    });

    it("carries TelemetryEvents on the raw-telemetry topic unchanged", async () => {
      const service = `svc-${run}`;
      const event: TelemetryEvent = {
        schemaVersion: 1,
        kind: "log",
        service,
        time: 1_732_700_000_000.5,
        attributes: { env: "test", shard: 3 },
        log: { body: "payment declined", severity: "error", attributes: {} },
      };
      const got: ConsumedMessage<TelemetryEvent>[] = [];
      await bus.subscribe<TelemetryEvent>(TOPICS.rawTelemetry, `g-${run}`, async (batch) => {
        // A shared Kafka topic may hold other runs' events; keep this run's.
        got.push(...batch.messages.filter((m) => m.value.service === service));
      });
      await bus.publish(TOPICS.rawTelemetry, [{ key: service, value: event }]);
      await waitFor(() => got.length >= 1, "the telemetry event", timeoutMs);
      expect(got[0]!.key).toBe(service);
      expect(got[0]!.value).toStrictEqual(event);
    });

    it("refuses to publish after close", async () => {
      await bus.close();
      await expect(bus.publish(topic(), [{ key: "k", value: 1 }])).rejects.toThrow(/closed/);
      await expect(bus.ping()).rejects.toThrow(/closed/);
    });
  });
}
