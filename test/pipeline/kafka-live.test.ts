import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TelemetryEvent } from "../../src/core/telemetry.js";
import { createDemoShop } from "../../src/demo/index.js";
import { type Bus, eventKey, TOPICS } from "../../src/pipeline/bus/bus.js";
import { KafkaBus } from "../../src/pipeline/bus/kafka.js";
import { redact } from "../../src/pipeline/redact.js";
import { SeededRandom } from "../../src/pipeline/reservoir.js";
import { type Pipeline, startPipeline } from "../../src/pipeline/run.js";
import { openFileBlobs } from "../../src/store/blobs/file.js";
import { migrate } from "../../src/store/migrate.js";
import type { Sql } from "../../src/store/ports.js";
import { listEdgeStats, listExampleTraces, listRouteStats } from "../../src/store/repos/aggregates.js";
import { listCapsules } from "../../src/store/repos/capsules.js";
import { openPglite } from "../../src/store/sql/pglite.js";
import { kafkaBrokers, kafkaProbe } from "../helpers/kafka-broker.js";
import { requireService } from "../helpers/services.js";

/**
 * The stream stage on a real Kafka (the broker `scripts/services.sh up kafka` runs). Every run uses its own
 * topic prefix and consumer group, so runs in parallel files never see each other's messages.
 */

const brokers = kafkaBrokers();
const live = await requireService(`Kafka at ${brokers.join(",")}`, () => kafkaProbe(brokers));

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 1);

let sql: Sql;
let dir: string;
beforeAll(async () => {
  if (!live) return;
  sql = await openPglite("pglite://memory");
  await migrate(sql);
  dir = mkdtempSync(join(tmpdir(), "slo-scout-kafka-live-"));
}, 120_000);
afterAll(async () => {
  await sql?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function truncate() {
  await sql.query(
    `TRUNCATE capsules, capsule_vectors, fingerprint_state, metric_series, metric_samples, route_stats,
     edge_stats, example_traces, web_vital_stats, consumer_offsets, window_watermarks, applied_traces, services`,
  );
}

const kafkaBus = (prefix: string) =>
  new KafkaBus({ brokers, clientId: "slo-scout-live-test", topicPrefix: prefix, lingerMs: 5 });

/** `workers` pipelines in one consumer group, fed `events` through Kafka; resolves once all are stored. */
async function runOnKafka(
  events: TelemetryEvent[],
  workers: number,
  wrap: (bus: Bus) => Bus = (bus) => bus,
): Promise<{ prefix: string }> {
  const prefix = `live-${randomUUID().slice(0, 8)}.`;
  const group = `pipeline-${prefix}`;
  const buses = Array.from({ length: workers }, () => kafkaBus(prefix));
  const random = new SeededRandom(5);
  const pipelines: Pipeline[] = [];
  for (const bus of buses) {
    pipelines.push(
      await startPipeline({
        bus: wrap(bus),
        sql,
        blobs: openFileBlobs(`file://${dir}`),
        redact,
        group,
        // Kafka hands out one partition's backlog at a time, so a service's clock can run hours ahead of
        // another partition's events; nothing here is meant to be late.
        allowedLatenessMs: 48 * HOUR,
        random: () => random.next(),
      }),
    );
  }
  const producer = kafkaBus(prefix);
  for (let i = 0; i < events.length; i += 2000) {
    await producer.publish(
      TOPICS.rawTelemetry,
      events.slice(i, i + 2000).map((value) => ({ key: eventKey(value), value })),
    );
  }
  await producer.close();
  // Every event applied by one of the workers (a redelivered one is skipped, not counted again).
  const deadline = Date.now() + 90_000;
  while (pipelines.reduce((n, p) => n + p.counters.events, 0) < events.length) {
    if (Date.now() > deadline) throw new Error("the workers did not consume every event in 90 s");
    await new Promise((r) => setTimeout(r, 200));
  }
  for (const p of pipelines) await p.drain();
  for (const p of pipelines) await p.stop();
  expect(pipelines.reduce((n, p) => n + p.counters.droppedLate, 0)).toBe(0);
  await Promise.all(buses.map((b) => b.close()));
  return { prefix };
}

/** What analysis reads: journeys with their requests and errors, call edges, capsule counts. */
async function snapshot() {
  const routes = Object.fromEntries(
    (await listRouteStats(sql, {})).map((r) => [
      `${r.journeyKey}@${r.windowStart}`,
      { requests: r.requests, errors: r.errors, latency: r.latency.counts },
    ]),
  );
  const edges = Object.fromEntries(
    (await listEdgeStats(sql, {})).map((e) => [
      `${e.journeyKey}|${e.from}>${e.to}|${e.operation}@${e.windowStart}`,
      e.calls,
    ]),
  );
  const capsules: Record<string, number> = {};
  for (const c of await listCapsules(sql, { limit: 100_000 })) {
    const k = `${c.service}|${c.template}@${c.windowStart}`;
    capsules[k] = (capsules[k] ?? 0) + c.count;
  }
  const examples: Record<string, number> = {};
  for (const t of await listExampleTraces(sql, { limit: 100_000 })) {
    const k = `${t.journeyKey}@${t.windowStart}`;
    examples[k] = (examples[k] ?? 0) + 1;
  }
  return { routes, edges, capsules, examples };
}

const log = (service: string, time: number, body: string): TelemetryEvent => ({
  schemaVersion: 1,
  kind: "log",
  service,
  time,
  attributes: {},
  log: { body, severity: "info", attributes: {} },
});

const logWorkload = () =>
  Array.from({ length: 120 }, (_, i) =>
    log(i % 2 ? "checkout" : "payment", T0 + i * 30_000, `order ${1000 + i} placed by user${i}@example.com`),
  );

describe.skipIf(!live)(`stream stage on Kafka at ${brokers.join(",")}`, () => {
  it("creates raw-telemetry with 3 partitions and counts every event once", async () => {
    await truncate();
    const { prefix } = await runOnKafka(logWorkload(), 1);
    const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const { topics } = await admin.fetchTopicMetadata({ topics: [`${prefix}${TOPICS.rawTelemetry}`] });
    await admin.disconnect();
    expect(topics[0]!.partitions).toHaveLength(3);
    const { capsules } = await snapshot();
    expect(Object.values(capsules).reduce((a, b) => a + b, 0)).toBe(120);
  }, 120_000);

  it("has an exactly-once effect when a worker fails after its window write, before the Kafka commit", async () => {
    await truncate();
    await runOnKafka(logWorkload(), 1);
    const expected = (await snapshot()).capsules;

    await truncate();
    let crashes = 0;
    // Publishing capsule-events follows the window transaction: failing it is a crash between the
    // window write and the offset commit, and Kafka redelivers the batch to the group.
    await runOnKafka(logWorkload(), 1, (bus) => ({
      durable: bus.durable,
      publish: async (topic, messages) => {
        if (topic === TOPICS.capsuleEvents && crashes++ % 3 === 0) throw new Error("killed");
        return bus.publish(topic, messages);
      },
      subscribe: (topic, group, handler) => bus.subscribe(topic, group, handler),
      saturated: (topic) => bus.saturated(topic),
      flush: () => bus.flush(),
      ping: () => bus.ping(),
      close: () => bus.close(),
    }));
    expect(crashes).toBeGreaterThan(1);
    expect((await snapshot()).capsules).toEqual(expected);
  }, 120_000);

  it("two workers in one consumer group store the journeys and counts of one worker", async () => {
    const shop = createDemoShop({
      seed: 11,
      days: 1,
      end: Date.UTC(2026, 10, 2),
      stepSeconds: 300,
      metricChunkSeconds: 6 * 3600,
      tracesPerJourneyPerHour: 2,
      logsPerServicePerHour: 2,
      rumPageLoadsPerPagePerHour: 1,
    });
    const events = [...shop.all()].filter((e) => e.kind !== "metric");
    await truncate();
    await runOnKafka(events, 1);
    const one = await snapshot();
    await truncate();
    await runOnKafka(events, 2);
    const two = await snapshot();
    expect(Object.keys(one.routes).length).toBeGreaterThan(10);
    expect(two.routes).toEqual(one.routes);
    expect(two.edges).toEqual(one.edges);
    expect(two.capsules).toEqual(one.capsules);
    expect(Object.keys(two.examples)).toEqual(Object.keys(one.examples));
  }, 240_000);
});
