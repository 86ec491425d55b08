import {
  CompressionTypes,
  type ConsumerRunConfig,
  type EachBatchPayload,
  KafkaJSNonRetriableError,
  KafkaJSProtocolError,
  type ProducerBatch,
} from "kafkajs";
import { describe, expect, it, vi } from "vitest";
import type { TelemetryEvent } from "../../../src/core/telemetry.js";
import { decodeTelemetryEvent, encodeTelemetryEvent } from "../../../src/pipeline/bus/avro.js";
import { BusSaturatedError, TOPICS } from "../../../src/pipeline/bus/bus.js";
import { KafkaBus, type KafkaClient, MESSAGE_ID_HEADER } from "../../../src/pipeline/bus/kafka.js";

/** A kafkajs stand-in that records what the adapter asks of it, in order. */
function fakeKafka(
  options: { sendBatch?: (b: ProducerBatch) => Promise<void>; commitOffsets?: () => Promise<void> } = {},
) {
  const log: string[] = [];
  const batches: ProducerBatch[] = [];
  const commits: unknown[] = [];
  const runs: ConsumerRunConfig[] = [];
  const client: KafkaClient = {
    producer: () => ({
      connect: async () => void log.push("producer.connect"),
      disconnect: async () => void log.push("producer.disconnect"),
      sendBatch: async (b) => {
        log.push("producer.sendBatch");
        batches.push(b);
        await options.sendBatch?.(b);
        return [];
      },
    }),
    consumer: (config) => ({
      connect: async () => void log.push(`consumer.connect ${config.groupId}`),
      disconnect: async () => void log.push("consumer.disconnect"),
      subscribe: async (s) => void log.push(`consumer.subscribe ${JSON.stringify(s)}`),
      run: async (r) => void runs.push(r!),
      commitOffsets: async (o) => {
        log.push("consumer.commit");
        await options.commitOffsets?.();
        commits.push(...o);
      },
    }),
    admin: () => ({
      connect: async () => void log.push("admin.connect"),
      disconnect: async () => void log.push("admin.disconnect"),
      describeCluster: async () => ({ brokers: [], controller: 1, clusterId: "c" }),
      listTopics: async () => [],
      fetchTopicOffsets: async () => [],
      fetchOffsets: async () => [],
      createTopics: async ({ topics }) => {
        for (const t of topics) log.push(`admin.createTopics ${t.topic}:${t.numPartitions}`);
        return true;
      },
    }),
  };
  return { client, log, batches, commits, runs };
}

const event = (service: string, body: string): TelemetryEvent => ({
  schemaVersion: 1,
  kind: "log",
  service,
  time: 1_700_000_000_000,
  attributes: {},
  log: { body, severity: "info", attributes: {} },
});

/** Builds the payload kafkajs hands to eachBatch. */
function payload(
  log: string[],
  partition: number,
  msgs: { key: string; value: Buffer; offset: string; id?: string }[],
) {
  const resolved: string[] = [];
  const p = {
    batch: {
      topic: TOPICS.rawTelemetry,
      partition,
      highWatermark: "100",
      messages: msgs.map((m) => ({
        key: Buffer.from(m.key),
        value: m.value,
        offset: m.offset,
        timestamp: "0",
        attributes: 0,
        headers: m.id === undefined ? {} : { [MESSAGE_ID_HEADER]: Buffer.from(m.id) },
      })),
      isEmpty: () => msgs.length === 0,
      firstOffset: () => msgs[0]?.offset ?? null,
      lastOffset: () => msgs[msgs.length - 1]!.offset,
      offsetLag: () => "0",
      offsetLagLow: () => "0",
    },
    resolveOffset: (o: string) => {
      log.push(`resolve ${o}`);
      resolved.push(o);
    },
    heartbeat: async () => void log.push("heartbeat"),
    pause: () => () => {},
    commitOffsetsIfNecessary: async () => {},
    uncommittedOffsets: () => ({ topics: [] }),
    isRunning: () => true,
    isStale: () => false,
  } as unknown as EachBatchPayload;
  return { payload: p, resolved };
}

describe("KafkaBus producer", () => {
  it("sends one GZIP batch per linger, keyed by service, Avro-encoded, acked by all replicas", async () => {
    const k = fakeKafka();
    const bus = new KafkaBus({ brokers: ["b:9092"], client: k.client, lingerMs: 20 });
    const first = bus.publish(TOPICS.rawTelemetry, [{ key: "checkout", value: event("checkout", "a") }]);
    const second = bus.publish(TOPICS.rawTelemetry, [
      { key: "payment", value: event("payment", "b") },
      { key: "checkout", value: event("checkout", "c") },
    ]);
    expect(k.batches).toHaveLength(0);
    await Promise.all([first, second]);
    expect(k.batches).toHaveLength(1);
    const batch = k.batches[0]!;
    expect(batch.compression).toBe(CompressionTypes.GZIP);
    expect(batch.acks).toBe(-1);
    expect(batch.topicMessages).toHaveLength(1);
    const msgs = batch.topicMessages![0]!.messages;
    expect(msgs.map((m) => m.key)).toEqual(["checkout", "payment", "checkout"]);
    expect(decodeTelemetryEvent(msgs[1]!.value as Buffer)).toStrictEqual(event("payment", "b"));
    expect(msgs[0]!.headers).toEqual({
      "content-type": expect.stringMatching(/^avro\/binary/),
      [MESSAGE_ID_HEADER]: expect.any(String),
    });
    // Every message gets an id of its own, so a consumer can tell a resent one from a new one.
    expect(new Set(msgs.map((m) => m.headers![MESSAGE_ID_HEADER])).size).toBe(3);
    expect(k.log.filter((l) => l === "producer.connect")).toHaveLength(1);
    await bus.close();
  });

  it("sends a message's own id (a receiver's content id) as its header, numbering only those without one", async () => {
    const k = fakeKafka();
    const bus = new KafkaBus({ brokers: ["b:9092"], client: k.client, lingerMs: 1 });
    await bus.publish(TOPICS.rawTelemetry, [
      { key: "checkout", value: event("checkout", "a"), id: "digest:0" },
      { key: "checkout", value: event("checkout", "b") },
    ]);
    const ids = k.batches[0]!.topicMessages![0]!.messages.map((m) => m.headers![MESSAGE_ID_HEADER]);
    expect(ids[0]).toBe("digest:0");
    expect(ids[1]).toMatch(/^[\w-]{12}:0$/);
    await bus.close();
  });

  it("sends at once when a batch fills, without waiting for the linger", async () => {
    const k = fakeKafka();
    const bus = new KafkaBus({
      brokers: ["b:9092"],
      client: k.client,
      lingerMs: 60_000,
      maxBatchMessages: 3,
    });
    const msgs = [1, 2, 3].map((i) => ({ key: `k${i}`, value: { i } }));
    await bus.publish("other-topic", msgs);
    expect(k.batches).toHaveLength(1);
    expect(JSON.parse(String(k.batches[0]!.topicMessages![0]!.messages[2]!.value))).toEqual({ i: 3 });
    await bus.close();
  });

  it("sends what a linger gathered in batches of at most 1,000 messages, splitting only a larger publish", async () => {
    const k = fakeKafka();
    const bus = new KafkaBus({ brokers: ["b:9092"], client: k.client, lingerMs: 5 });
    const publish = (n: number, from: number) =>
      bus.publish(
        "other-topic",
        Array.from({ length: n }, (_, i) => ({ key: `k${i % 7}`, value: { i: from + i } })),
      );
    await Promise.all([publish(400, 0), publish(300, 400), publish(400, 700), publish(2500, 1100)]);
    expect(k.batches.map((b) => b.topicMessages![0]!.messages.length)).toEqual([700, 400, 1000, 1000, 500]);
    const sent = k.batches.flatMap((b) =>
      b.topicMessages![0]!.messages.map((m) => JSON.parse(String(m.value)).i),
    );
    expect(sent).toEqual(Array.from({ length: 3600 }, (_, i) => i));
    await bus.close();
  });

  it("refuses a split publish when any of its sends fails", async () => {
    let sends = 0;
    const k = fakeKafka({
      sendBatch: async () => {
        if (++sends === 2) throw new Error("broker gone");
      },
    });
    const bus = new KafkaBus({ brokers: ["b:9092"], client: k.client });
    const msgs = Array.from({ length: 2500 }, (_, i) => ({ key: "k", value: { i } }));
    await expect(bus.publish("other-topic", msgs)).rejects.toThrow("broker gone");
    expect(sends).toBe(3);
    await bus.close();
  });

  it("is saturated while sends are unacknowledged, refuses more, and recovers", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const k = fakeKafka({ sendBatch: () => gate });
    const bus = new KafkaBus({ brokers: ["b:9092"], client: k.client, lingerMs: 1, capacity: 2 });
    const pending = bus.publish("t", [
      { key: "a", value: 1 },
      { key: "b", value: 2 },
    ]);
    expect(bus.saturated()).toMatch(/2 messages wait for Kafka to acknowledge/);
    await expect(bus.publish("t", [{ key: "c", value: 3 }])).rejects.toBeInstanceOf(BusSaturatedError);
    release();
    await pending;
    expect(bus.saturated()).toBeUndefined();
    await bus.close();
  });

  it("rejects the publishers of a failed send and frees their room", async () => {
    const errors: unknown[] = [];
    const k = fakeKafka({
      sendBatch: async () => {
        throw new Error("broker unavailable");
      },
    });
    const bus = new KafkaBus({
      brokers: ["b:9092"],
      client: k.client,
      lingerMs: 1,
      capacity: 1,
      onError: (e) => errors.push(e),
    });
    await expect(bus.publish("t", [{ key: "a", value: 1 }])).rejects.toThrow("broker unavailable");
    expect(bus.saturated()).toBeUndefined();
    expect(errors).toHaveLength(1);
    await bus.close();
  });

  it("refuses a value the topic's schema does not allow, before sending anything", async () => {
    const k = fakeKafka();
    const bus = new KafkaBus({ brokers: ["b:9092"], client: k.client });
    await expect(bus.publish(TOPICS.rawTelemetry, [{ key: "x", value: { kind: "nope" } }])).rejects.toThrow(
      /Avro schema/,
    );
    await bus.flush();
    expect(k.batches).toHaveLength(0);
    await bus.close();
  });

  it("flushes what is buffered on close, then disconnects", async () => {
    const k = fakeKafka();
    const bus = new KafkaBus({ brokers: ["b:9092"], client: k.client, lingerMs: 60_000 });
    const sent = bus.publish("t", [{ key: "a", value: 1 }]);
    await bus.close();
    await sent;
    expect(k.log).toEqual([
      "producer.connect",
      "admin.connect",
      "admin.createTopics t:3",
      "producer.sendBatch",
      "producer.disconnect",
      "admin.disconnect",
    ]);
  });
});

describe("KafkaBus consumer", () => {
  it("joins the group with auto-commit off and commits the next offset only after the handler resolves", async () => {
    const k = fakeKafka();
    const bus = new KafkaBus({ brokers: ["b:9092"], client: k.client });
    const got: TelemetryEvent[] = [];
    await bus.subscribe<TelemetryEvent>(TOPICS.rawTelemetry, "fingerprinter", async (batch) => {
      k.log.push("handler.start");
      await new Promise((r) => setTimeout(r, 5));
      got.push(...batch.messages.map((m) => m.value));
      expect(batch.messages.map((m) => [m.key, m.offset, m.id])).toEqual([
        ["payment", "41", "p:7"],
        ["payment", "42", undefined],
      ]);
      k.log.push("handler.end");
    });
    expect(k.log).toContain("consumer.connect fingerprinter");
    expect(k.log).toContain(
      `consumer.subscribe ${JSON.stringify({ topics: [TOPICS.rawTelemetry], fromBeginning: true })}`,
    );
    const run = k.runs[0]!;
    expect(run.autoCommit).toBe(false);
    expect(run.eachBatchAutoResolve).toBe(false);
    const { payload: p } = payload(k.log, 2, [
      { key: "payment", value: encodeTelemetryEvent(event("payment", "x")), offset: "41", id: "p:7" },
      { key: "payment", value: encodeTelemetryEvent(event("payment", "y")), offset: "42" },
    ]);
    k.log.length = 0;
    await run.eachBatch!(p);
    expect(k.log).toEqual(["handler.start", "handler.end", "resolve 42", "consumer.commit", "heartbeat"]);
    expect(k.commits).toEqual([{ topic: TOPICS.rawTelemetry, partition: 2, offset: "43" }]);
    expect(got.map((e) => e.kind === "log" && e.log.body)).toEqual(["x", "y"]);
    await bus.close();
  });

  it("commits nothing when the handler throws, so kafkajs redelivers the batch", async () => {
    const k = fakeKafka();
    const bus = new KafkaBus({ brokers: ["b:9092"], client: k.client });
    await bus.subscribe(TOPICS.rawTelemetry, "g", async () => {
      throw new Error("store down");
    });
    const { payload: p, resolved } = payload(k.log, 0, [
      { key: "a", value: encodeTelemetryEvent(event("a", "x")), offset: "7" },
    ]);
    await expect(k.runs[0]!.eachBatch!(p)).rejects.toThrow("store down");
    expect(resolved).toEqual([]);
    expect(k.commits).toEqual([]);
    await bus.close();
  });

  it("skips an undecodable message, reports it, and commits past it", async () => {
    const k = fakeKafka();
    const errors: unknown[] = [];
    const bus = new KafkaBus({ brokers: ["b:9092"], client: k.client, onError: (_e, w) => errors.push(w) });
    const keys: string[] = [];
    await bus.subscribe(TOPICS.rawTelemetry, "g", async (b) => {
      keys.push(...b.messages.map((m) => m.key));
    });
    const { payload: p } = payload(k.log, 1, [
      { key: "bad", value: Buffer.from([0xff, 0xff, 0xff]), offset: "10" },
      { key: "good", value: encodeTelemetryEvent(event("good", "ok")), offset: "11" },
    ]);
    await k.runs[0]!.eachBatch!(p);
    expect(keys).toEqual(["good"]);
    expect(errors).toEqual([{ topic: TOPICS.rawTelemetry, group: "g", partition: 1 }]);
    expect(k.commits).toEqual([{ topic: TOPICS.rawTelemetry, partition: 1, offset: "12" }]);
    await bus.close();
  });

  it("keeps heartbeating while the handler works on a long batch, so the member keeps its place in the group", async () => {
    vi.useFakeTimers();
    try {
      const k = fakeKafka();
      const bus = new KafkaBus({ brokers: ["b:9092"], client: k.client });
      let finish = () => {};
      await bus.subscribe(TOPICS.rawTelemetry, "g", async () => {
        k.log.push("handler.start");
        await new Promise<void>((r) => {
          finish = r;
        });
        k.log.push("handler.end");
      });
      const { payload: p } = payload(k.log, 0, [
        { key: "a", value: encodeTelemetryEvent(event("a", "x")), offset: "5" },
      ]);
      const running = k.runs[0]!.eachBatch!(p);
      await vi.advanceTimersByTimeAsync(10_000);
      finish();
      await running;
      const during = k.log.slice(k.log.indexOf("handler.start"), k.log.indexOf("handler.end"));
      expect(during.filter((l) => l === "heartbeat").length).toBeGreaterThanOrEqual(3);
      // None after the batch is done but the one kafkajs's own loop would send.
      expect(k.log.slice(k.log.indexOf("handler.end"))).toEqual([
        "handler.end",
        "resolve 5",
        "consumer.commit",
        "heartbeat",
      ]);
      await bus.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it("hands a commit the group refused back to kafkajs unwrapped, so its consumer joins the group again", async () => {
    // What consumer.commitOffsets throws when a batch outlasted the session: kafkajs's retrier wraps the
    // protocol error as non-retriable, and a consumer crashing with that is never restarted.
    const memberGone = new KafkaJSProtocolError(
      Object.assign(new Error("The coordinator is not aware of this member"), {
        type: "UNKNOWN_MEMBER_ID",
        code: 25,
        retriable: false,
      }),
    );
    // kafkajs's typings leave out the options its constructor takes (errors.js: `{ cause }`).
    const wrapped = Object.assign(new KafkaJSNonRetriableError(memberGone), { cause: memberGone });
    const k = fakeKafka({
      commitOffsets: async () => {
        throw wrapped;
      },
    });
    const bus = new KafkaBus({ brokers: ["b:9092"], client: k.client });
    await bus.subscribe(TOPICS.rawTelemetry, "g", async () => {});
    const { payload: p } = payload(k.log, 0, [
      { key: "a", value: encodeTelemetryEvent(event("a", "x")), offset: "3" },
    ]);
    const thrown = await k.runs[0]!.eachBatch!(p).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(thrown).toBe(memberGone);
    expect((thrown as KafkaJSProtocolError).type).toBe("UNKNOWN_MEMBER_ID");
    await bus.close();
  });

  it("passes any other commit failure on as it came", async () => {
    const broken = new KafkaJSNonRetriableError("Invalid offset");
    const k = fakeKafka({
      commitOffsets: async () => {
        throw broken;
      },
    });
    const bus = new KafkaBus({ brokers: ["b:9092"], client: k.client });
    await bus.subscribe(TOPICS.rawTelemetry, "g", async () => {});
    const { payload: p } = payload(k.log, 0, [
      { key: "a", value: encodeTelemetryEvent(event("a", "x")), offset: "3" },
    ]);
    await expect(k.runs[0]!.eachBatch!(p)).rejects.toBe(broken);
    await bus.close();
  });

  it("disconnects the consumer on stop", async () => {
    const k = fakeKafka();
    const bus = new KafkaBus({ brokers: ["b:9092"], client: k.client });
    const sub = await bus.subscribe("t", "g", async () => {});
    await sub.stop();
    expect(k.log).toContain("consumer.disconnect");
    await bus.close();
  });

  it("pings through the admin client", async () => {
    const k = fakeKafka();
    const bus = new KafkaBus({ brokers: ["b:9092"], client: k.client });
    await bus.ping();
    await bus.ping();
    expect(k.log.filter((l) => l === "admin.connect")).toHaveLength(1);
    await bus.close();
    expect(k.log).toContain("admin.disconnect");
  });

  it("creates each topic once, with the configured partitions, under the topic prefix", async () => {
    const k = fakeKafka();
    const bus = new KafkaBus({ brokers: ["b:9092"], client: k.client, partitions: 6, topicPrefix: "t1." });
    await bus.subscribe(TOPICS.rawTelemetry, "g", async () => {});
    await bus.publish(TOPICS.rawTelemetry, [{ key: "checkout", value: event("checkout", "hi") }]);
    await bus.flush();
    expect(k.log.filter((l) => l.startsWith("admin.createTopics"))).toEqual([
      "admin.createTopics t1.raw-telemetry:6",
    ]);
    expect(k.batches[0]!.topicMessages![0]!.topic).toBe("t1.raw-telemetry");
    await bus.close();
  });
});
