import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { TelemetryEvent } from "../../src/core/telemetry.js";
import { type Bus, type BusBatch, TOPICS } from "../../src/pipeline/bus/bus.js";
import { MemoryBus } from "../../src/pipeline/bus/memory.js";
import { HashingEmbedder } from "../../src/pipeline/embed/hashing.js";
import { findSimilarCapsules } from "../../src/pipeline/embed/similar.js";
import { redact } from "../../src/pipeline/redact.js";
import { SeededRandom } from "../../src/pipeline/reservoir.js";
import { type Pipeline, type PipelineDeps, startPipeline } from "../../src/pipeline/run.js";
import { openFileBlobs } from "../../src/store/blobs/file.js";
import { migrate } from "../../src/store/migrate.js";
import type { Sql } from "../../src/store/ports.js";
import { listRouteStats } from "../../src/store/repos/aggregates.js";
import { listCapsules } from "../../src/store/repos/capsules.js";
import { openPglite } from "../../src/store/sql/pglite.js";
import { openPgVectors } from "../../src/store/vectors/pgvector.js";

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 1);

const log = (
  service: string,
  time: number,
  body: string,
  severity: "info" | "error" = "info",
): TelemetryEvent => ({
  schemaVersion: 1,
  kind: "log",
  service,
  time,
  attributes: {},
  log: { body, severity, attributes: {} },
});

// One database for the file (PGlite takes seconds to start); each run starts from empty tables.
let shared: Sql;
beforeAll(async () => {
  shared = await openPglite("pglite://memory");
  await migrate(shared);
}, 120_000);
afterAll(() => shared.close());

async function freshSql(): Promise<Sql> {
  await shared.query(
    `TRUNCATE capsules, capsule_vectors, fingerprint_state, metric_series, metric_samples, route_stats,
     edge_stats, example_traces, web_vital_stats, consumer_offsets, window_watermarks, applied_traces, services`,
  );
  return { ...shared, close: async () => {} };
}

async function counts(sql: Sql) {
  const rows = await listCapsules(sql, { limit: 10_000 });
  return Object.fromEntries(
    rows.map((c) => [`${c.service}|${c.template}|${(c.windowStart - T0) / HOUR}`, c.count]),
  );
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "slo-scout-pipeline-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function run(
  events: TelemetryEvent[],
  sql: Sql,
  over: Partial<PipelineDeps> = {},
  bus = new MemoryBus({ partitions: 2, maxBatch: 7, retryDelayMs: 5 }),
): Promise<Pipeline> {
  const pipeline = await startPipeline({
    bus,
    sql,
    blobs: openFileBlobs(`file://${dir}`),
    redact,
    vectors: await openPgVectors(sql),
    embedder: new HashingEmbedder(),
    allowedLatenessMs: 10 * 60_000,
    random: () => new SeededRandom(1).next(),
    ...over,
  });
  await bus.publish(
    TOPICS.rawTelemetry,
    events.map((e) => ({ key: e.service, value: e })),
  );
  await pipeline.drain();
  return pipeline;
}

const workload = (): TelemetryEvent[] => {
  const out: TelemetryEvent[] = [];
  for (let i = 0; i < 60; i++) {
    out.push(
      log(
        "checkout",
        T0 + i * 60_000,
        `order ${1000 + i} placed by user${i}@example.com from 10.0.${i % 5}.7`,
      ),
    );
    out.push(
      log(
        "payment",
        T0 + HOUR + i * 60_000,
        `charge failed for card 4111 1111 1111 1111 attempt ${i}`,
        "error",
      ),
    );
  }
  return out;
};

describe("stream pipeline", () => {
  it("counts every log line once into hourly capsules per service and template", async () => {
    const sql = await freshSql();
    const p = await run(workload(), sql);
    await p.stop();
    expect(await counts(sql)).toEqual({
      "checkout|order <*> placed by <*> from <*>|0": 60,
      "payment|charge failed for card <*> attempt <*>|1": 60,
    });
    await sql.close();
  });

  it("never stores planted PII: database rows and sample blobs hold only placeholders", async () => {
    const sql = await freshSql();
    const p = await run(workload(), sql);
    await p.stop();
    const dump = JSON.stringify([
      await listCapsules(sql, { limit: 10_000 }),
      (await sql.query("SELECT id, template FROM capsule_vectors")).rows,
    ]);
    const blobs = readdirSync(join(dir, "samples"), { recursive: true, withFileTypes: true })
      .filter((d) => d.isFile())
      .map((d) => gunzipSync(readFileSync(join(d.parentPath, d.name))).toString());
    expect(blobs.length).toBe(2);
    for (const text of [dump, ...blobs]) {
      expect(text).not.toMatch(/@example\.com|4111 1111|10\.0\.\d\.7/);
      expect(text).toContain("<");
    }
    const capsules = await listCapsules(sql, { limit: 10 });
    expect(capsules.every((c) => c.samples.length === 10 && c.blobRef)).toBe(true);
    await sql.close();
  });

  it("finds the capsules nearest to a text or to another capsule", async () => {
    const sql = await freshSql();
    const events = [
      ...workload(),
      log("payment", T0 + HOUR, "card authorization failed: issuer unavailable", "error"),
      log("inventory", T0 + HOUR, "cache warmed with 120 items"),
    ];
    const p = await run(events, sql);
    await p.stop();
    const deps = { sql, vectors: await openPgVectors(sql), embedder: new HashingEmbedder(), redact };
    const byText = await findSimilarCapsules(deps, "charge failed for card of jane@example.com", 2);
    expect(byText[0]?.capsule.template).toBe("charge failed for card <*> attempt <*>");
    const onlyInventory = await findSimilarCapsules(deps, "charge failed", 5, { service: "inventory" });
    expect(onlyInventory.map((h) => h.capsule.service)).toEqual(["inventory"]);
    const byId = await findSimilarCapsules(deps, { capsuleId: byText[0]!.capsule.id! }, 1);
    expect(byId[0]?.capsule.id).not.toBe(byText[0]!.capsule.id);
    expect(byId[0]?.capsule.service).toBe("payment");
  });

  it("applies late events within the lateness, drops later ones, and ignores arrival order", async () => {
    const sql = await freshSql();
    const events = [
      log("svc", T0 + 5, "started worker 1"),
      log("svc", T0 + HOUR + 5 * 60_000, "started worker 2"),
      log("svc", T0 + 10, "started worker 3"), // 5 min late: within 10 min
      log("svc", T0 + 2 * HOUR + 30 * 60_000, "started worker 4"),
      log("svc", T0 + 20, "started worker 5"), // 1.5 h late: dropped, counted
    ];
    const p = await run(events, sql, {}, new MemoryBus({ partitions: 1, maxBatch: 1 }));
    await p.stop();
    expect(await counts(sql)).toEqual({
      "svc|started worker <*>|0": 2,
      "svc|started worker <*>|1": 1,
      "svc|started worker <*>|2": 1,
    });
    expect(p.counters.droppedLate).toBe(1);
    await sql.close();
  });

  it("has an exactly-once effect when it crashes after writing windows but before the bus commit", async () => {
    const clean = await freshSql();
    await (await run(workload(), clean)).stop();
    const expected = await counts(clean);

    const sql = await freshSql();
    const bus = new MemoryBus({ partitions: 2, maxBatch: 7, retryDelayMs: 5 });
    let crashes = 0;
    const flaky = Object.create(bus) as MemoryBus;
    // Publishing capsule-events follows the window transaction: failing it is a crash between the
    // capsule write and the offset commit, and the bus redelivers the batch.
    flaky.publish = async (topic, messages) => {
      if (topic === TOPICS.capsuleEvents && crashes++ % 3 === 0) throw new Error("killed");
      return bus.publish(topic, messages);
    };
    const p = await run(workload(), sql, { bus: flaky }, bus);
    await p.stop();
    expect(crashes).toBeGreaterThan(3);
    expect(await counts(sql)).toEqual(expected);
  });

  it("recounts nothing when the window transaction itself fails and the batch is redelivered", async () => {
    const clean = await freshSql();
    await (await run(workload(), clean)).stop();
    const expected = await counts(clean);

    const sql = await freshSql();
    let calls = 0;
    const failing: Sql = {
      ...sql,
      transaction: async (fn) => {
        if (calls++ % 4 === 1) throw new Error("connection reset");
        return sql.transaction(fn);
      },
    };
    const p = await run(workload(), failing);
    await p.stop();
    expect(calls).toBeGreaterThan(8);
    expect(await counts(sql)).toEqual(expected);
  });

  describe("on a durable bus, messages another consumer generation stored are not applied again", () => {
    /** A durable bus whose batches the test hands to the worker itself, as Kafka would redeliver them. */
    function handBus() {
      let handler: ((batch: BusBatch<TelemetryEvent>) => Promise<void>) | undefined;
      const bus: Bus = {
        durable: true,
        publish: async () => {},
        subscribe: async (_topic, _group, h) => {
          handler = h as typeof handler;
          return { stop: async () => {} };
        },
        saturated: () => undefined,
        flush: async () => {},
        ping: async () => {},
        close: async () => {},
      };
      const deliver = (messages: TelemetryEvent[]) =>
        handler!({
          topic: TOPICS.rawTelemetry,
          partition: 0,
          messages: messages.map((value, i) => ({ key: value.service, value, offset: String(i) })),
        });
      return { bus, deliver };
    }
    const worker = async (sql: Sql, bus: Bus) =>
      startPipeline({
        bus,
        sql,
        blobs: openFileBlobs(`file://${dir}`),
        redact,
        allowedLatenessMs: 10 * 60_000,
        random: () => new SeededRandom(1).next(),
      });
    const span = (traceId: string, time: number): TelemetryEvent => ({
      schemaVersion: 1,
      kind: "span",
      service: "api-gateway",
      time,
      attributes: {},
      span: {
        traceId,
        spanId: traceId.slice(0, 16),
        name: "POST /api/checkout",
        kind: "server",
        startTime: time,
        endTime: time + 30,
        status: "unset",
        attributes: { "http.request.method": "POST", "http.route": "/api/checkout" },
        events: [],
      },
    });
    const batch = (n: number) =>
      Array.from({ length: n }, (_, i) =>
        i % 3 === 0
          ? span(i.toString(16).padStart(32, "0"), T0 + i * 1000)
          : log("checkout", T0 + i * 1000, `order ${i} placed`),
      );
    const stored = async (sql: Sql) => ({
      logLines: (await listCapsules(sql, { limit: 100 })).reduce((n, c) => n + c.count, 0),
      requests: (await listRouteStats(sql, {})).reduce((n, r) => n + r.requests, 0),
    });

    it("skips a batch redelivered to a worker that consumed nothing since it started (rebalance, restart)", async () => {
      const sql = await freshSql();
      const a = handBus();
      const b = handBus();
      // Both workers start before anything is stored, as a group's members do.
      const first = await worker(sql, a.bus);
      const second = await worker(sql, b.bus);
      await a.deliver(batch(9));
      await first.drain();
      expect(await stored(sql)).toEqual({ logLines: 6, requests: 3 });
      // The partition moves to the other worker while Kafka's commit lags the stored offset: the batch comes
      // again, with 3 new messages, to a worker whose state was never told about it; then all of it again to
      // the first after it rejoins.
      await b.deliver(batch(12));
      await second.drain();
      await a.deliver(batch(12));
      await first.drain();
      expect(await stored(sql)).toEqual({ logLines: 8, requests: 4 });
      await Promise.all([first.stop(), second.stop()]);
    });

    it("adds nothing of a batch that another worker stored while it was applying it, then consumes the rest", async () => {
      const sql = await freshSql();
      let open: () => void = () => {};
      const gate = new Promise<void>((resolve) => {
        open = resolve;
      });
      const a = handBus();
      const b = handBus();
      const first = await worker(sql, a.bus);
      // The second worker's window write waits until the first (a zombie that still held the partition)
      // stored the first 6 messages of the 9 both are applying.
      const second = await worker(
        {
          ...sql,
          transaction: async (fn) => {
            await gate;
            return sql.transaction(fn);
          },
        },
        b.bus,
      );
      const late = b.deliver(batch(9));
      await a.deliver(batch(6));
      await first.drain();
      open();
      await expect(late).rejects.toThrow(/consumed again/);
      await b.deliver(batch(9));
      await second.drain();
      expect(await stored(sql)).toEqual({ logLines: 6, requests: 3 });
      await Promise.all([first.stop(), second.stop()]);
    });
  });

  describe("on a durable bus, a message the producer wrote twice (one id, two offsets) is applied once", () => {
    function idBus() {
      let handler: ((batch: BusBatch<TelemetryEvent>) => Promise<void>) | undefined;
      const bus: Bus = {
        durable: true,
        publish: async () => {},
        subscribe: async (_topic, _group, h) => {
          handler = h as typeof handler;
          return { stop: async () => {} };
        },
        saturated: () => undefined,
        flush: async () => {},
        ping: async () => {},
        close: async () => {},
      };
      /** Messages as Kafka hands them over: at `offset` and on, each with the id its publisher gave it. */
      const deliver = (offset: number, messages: [id: string | undefined, value: TelemetryEvent][]) =>
        handler!({
          topic: TOPICS.rawTelemetry,
          partition: 0,
          messages: messages.map(([id, value], i) => ({
            key: value.service,
            value,
            offset: String(offset + i),
            ...(id === undefined ? {} : { id }),
          })),
        });
      return { bus, deliver };
    }
    const start = (sql: Sql, bus: Bus, options: Partial<PipelineDeps> = {}) =>
      startPipeline({
        bus,
        sql,
        blobs: openFileBlobs(`file://${dir}`),
        redact,
        allowedLatenessMs: 10 * 60_000,
        random: () => new SeededRandom(1).next(),
        ...options,
      });
    const trace = (traceId: string): TelemetryEvent => ({
      schemaVersion: 1,
      kind: "span",
      service: "api-gateway",
      time: T0,
      attributes: {},
      span: {
        traceId,
        spanId: traceId.slice(0, 16),
        name: "POST /api/checkout",
        kind: "server",
        startTime: T0,
        endTime: T0 + 30,
        status: "unset",
        attributes: { "http.request.method": "POST", "http.route": "/api/checkout" },
        events: [],
      },
    });
    const line = (i: number) => log("checkout", T0 + i * 1000, `order ${i} placed`);
    const totals = async (sql: Sql) => ({
      logLines: (await listCapsules(sql, { limit: 100 })).reduce((n, c) => n + c.count, 0),
      requests: (await listRouteStats(sql, {})).reduce((n, r) => n + r.requests, 0),
    });
    /** A request of 3 log lines and a span, as one publish: ids p:0 to p:3. */
    const request: [string, TelemetryEvent][] = [
      ["p:0", line(0)],
      ["p:1", line(1)],
      ["p:2", line(2)],
      ["p:3", trace("c".repeat(32))],
    ];

    it("drops the resend in the same batch and in a later one, also after a rejoin redelivers both", async () => {
      const sql = await freshSql();
      const { bus, deliver } = idBus();
      const p = await start(sql, bus);
      // The request at offsets 0-3, then (its partition failed) resent whole: two copies in this batch, the
      // rest in the next, after another client's line.
      await deliver(0, [...request, request[0]!, request[1]!]);
      await deliver(6, [["q:0", line(7)], request[2]!, request[3]!]);
      await p.drain();
      expect(await totals(sql)).toEqual({ logLines: 4, requests: 1 });
      // The consumer rejoins its group and Kafka redelivers from an older commit: offsets skip all of it.
      await deliver(0, [...request, request[0]!, request[1]!, ["q:0", line(7)], request[2]!, request[3]!]);
      await p.drain();
      expect(await totals(sql)).toEqual({ logLines: 4, requests: 1 });
      await p.stop();
    });

    it("applies messages with identical values and different ids (or none) each", async () => {
      const sql = await freshSql();
      const { bus, deliver } = idBus();
      const p = await start(sql, bus);
      await deliver(0, [
        ["a:0", line(0)],
        ["b:0", line(0)],
        [undefined, line(0)],
        [undefined, line(0)],
      ]);
      await p.drain();
      expect(await totals(sql)).toEqual({ logLines: 4, requests: 0 });
      await p.stop();
    });

    it("drops a resend of messages whose change set the store refused, once it is written", async () => {
      const sql = await freshSql();
      const { bus, deliver } = idBus();
      let refuse = 2;
      const p = await start(
        {
          ...sql,
          transaction: async (fn) => {
            if (refuse-- > 0) throw new Error("store down");
            return sql.transaction(fn);
          },
        },
        bus,
      );
      await expect(deliver(0, request)).rejects.toThrow(/store down/);
      // The redelivery of the refused batch (skipped by offset) with the resend behind it; refused again.
      await expect(deliver(0, [...request, ...request])).rejects.toThrow(/store down/);
      await deliver(0, [...request, ...request]);
      await p.drain();
      expect(await totals(sql)).toEqual({ logLines: 3, requests: 1 });
      await p.stop();
    });

    it("remembers a bounded number of ids per partition", async () => {
      const sql = await freshSql();
      const { bus, deliver } = idBus();
      const p = await start(sql, bus, { recentIds: 2 });
      await deliver(0, [
        ["a", line(0)],
        ["b", line(1)],
        ["a", line(0)],
        ["c", line(2)],
        ["a", line(0)],
      ]);
      await p.drain();
      // "a" is dropped while it is among the last two ids, and applied again once "b" and "c" pushed it out.
      expect(await totals(sql)).toEqual({ logLines: 4, requests: 0 });
      await p.stop();
    });
  });

  it("continues after a restart without renumbering or recounting", async () => {
    const events = workload();
    const clean = await freshSql();
    await (await run(events, clean)).stop();
    const fps = async (s: Sql) => (await listCapsules(s, { limit: 100 })).map((c) => c.fingerprint).sort();
    const expected = { counts: await counts(clean), fingerprints: await fps(clean) };

    const sql = await freshSql();
    await (await run(events.slice(0, 50), sql)).stop();
    // A new process: windows, watermark and template tree come back from the store.
    await (await run(events.slice(50), sql)).stop();
    expect({ counts: await counts(sql), fingerprints: await fps(sql) }).toEqual(expected);
  });

  it("aggregates assembled traces per journey and counts a re-sent trace once", async () => {
    const sql = await freshSql();
    const span = (spanId: string, traceId: string, status: number): TelemetryEvent => ({
      schemaVersion: 1,
      kind: "span",
      service: "api-gateway",
      time: T0,
      attributes: {},
      span: {
        traceId,
        spanId,
        name: "POST /api/checkout",
        kind: "server",
        startTime: T0,
        endTime: T0 + 30,
        status: status >= 500 ? "error" : "unset",
        attributes: {
          "http.request.method": "POST",
          "http.route": "/api/checkout",
          "http.response.status_code": status,
        },
        events: [],
      },
    });
    const a = span("00000000000000a1", "a".repeat(32), 200);
    const b = span("00000000000000b1", "b".repeat(32), 503);
    await (await run([a, b], sql)).stop();
    await (await run([a], sql)).stop();
    const [stats] = await listRouteStats(sql, {});
    expect(stats).toMatchObject({ journeyKey: "api-gateway POST /api/checkout", requests: 2, errors: 1 });
    await sql.close();
  });
});
