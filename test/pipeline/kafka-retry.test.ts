import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Fastify, { type FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registry } from "../../src/observability/metrics.js";
import { KafkaBus } from "../../src/pipeline/bus/kafka.js";
import { receiversPlugin } from "../../src/pipeline/receivers/plugin.js";
import { redact } from "../../src/pipeline/redact.js";
import { type Pipeline, startPipeline } from "../../src/pipeline/run.js";
import { openFileBlobs } from "../../src/store/blobs/file.js";
import { migrate } from "../../src/store/migrate.js";
import type { Sql } from "../../src/store/ports.js";
import { listCapsules } from "../../src/store/repos/capsules.js";
import { openPglite } from "../../src/store/sql/pglite.js";
import { kafkaBrokers, kafkaProbe } from "../helpers/kafka-broker.js";
import { requireService } from "../helpers/services.js";
import { testConfig } from "./receivers/harness.js";

/**
 * A client's retry of a request the receivers already wrote to Kafka (they answered 503 after part of a
 * send had reached the broker) carries the ids of its first copy, derived from the request's content, so
 * the stream stage stores its log lines once. The receivers and the worker run on the real broker, on a
 * topic prefix and group of this run's own.
 */

const brokers = kafkaBrokers();
const live = await requireService(`Kafka at ${brokers.join(",")}`, () => kafkaProbe(brokers));

const prefix = `retry-${randomUUID().slice(0, 8)}.`;
let sql: Sql;
let dir: string;
let receiverBus: KafkaBus;
let workerBus: KafkaBus;
let app: FastifyInstance;
let url: string;
let pipeline: Pipeline;

beforeAll(async () => {
  if (!live) return;
  sql = await openPglite("pglite://memory");
  await migrate(sql);
  dir = mkdtempSync(join(tmpdir(), "slo-scout-kafka-retry-"));
  const bus = () =>
    new KafkaBus({ brokers, clientId: "slo-scout-retry-test", topicPrefix: prefix, lingerMs: 5 });
  receiverBus = bus();
  workerBus = bus();
  app = Fastify({ logger: false });
  await app.register(receiversPlugin, { bus: receiverBus, config: testConfig() });
  url = await app.listen({ host: "127.0.0.1", port: 0 });
  pipeline = await startPipeline({
    bus: workerBus,
    sql,
    blobs: openFileBlobs(`file://${dir}`),
    redact,
    group: `pipeline-${prefix}`,
    allowedLatenessMs: 10 * 60_000,
  });
}, 60_000);

afterAll(async () => {
  await pipeline?.stop();
  await app?.close();
  await receiverBus?.close();
  await workerBus?.close();
  await sql?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const now = Date.now();
const nanos = (ms: number) => `${BigInt(ms) * 1_000_000n}`;

/** An OTLP/HTTP JSON logs request: three records of checkout, three of payment. */
const otlpLogs = {
  resourceLogs: ["checkout", "payment"].map((service) => ({
    resource: { attributes: [{ key: "service.name", value: { stringValue: service } }] },
    scopeLogs: [
      {
        logRecords: [0, 1, 2].map((i) => ({
          timeUnixNano: nanos(now - 60_000 + i * 1000),
          severityText: "INFO",
          body: { stringValue: `order ${i} placed` },
        })),
      },
    ],
  })),
};

/** A Fluent Bit json_lines chunk of two records of cart. */
const fluentBitLines = [0, 1]
  .map((i) => JSON.stringify({ date: (now - 30_000 + i) / 1000, log: `GET /api/cart ${i}`, service: "cart" }))
  .join("\n");

async function post(path: string, body: string, contentType: string): Promise<number> {
  const res = await fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": contentType },
    body,
  });
  await res.arrayBuffer();
  return res.status;
}

async function duplicatesSoFar(): Promise<number> {
  const metric = registry.getSingleMetric("slo_scout_pipeline_duplicates_total");
  return (await metric!.get()).values.reduce((n, v) => n + v.value, 0);
}

async function storedLines(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const c of await listCapsules(sql, { limit: 1000 })) out[c.service] = (out[c.service] ?? 0) + c.count;
  return out;
}

describe.skipIf(!live)(`a client's retry on Kafka at ${brokers.join(",")}`, () => {
  it("stores a retried OTLP and Fluent Bit request's log lines once, and a different body with the same records again", async () => {
    const duplicatesBefore = await duplicatesSoFar();
    const body = JSON.stringify(otlpLogs);
    expect(await post("/v1/logs", body, "application/json")).toBe(200);
    expect(await post("/v1/logs", body, "application/json")).toBe(200);
    // The same records in another body (indented): the receiver cannot tell them from new ones.
    expect(await post("/v1/logs", JSON.stringify(otlpLogs, null, 1), "application/json")).toBe(200);
    expect(await post("/ingest/fluentbit", fluentBitLines, "application/x-ndjson")).toBe(200);
    expect(await post("/ingest/fluentbit", fluentBitLines, "application/x-ndjson")).toBe(200);

    // 6 + 6 + 6 + 2 + 2 messages on the topic: each either applied or dropped as a copy.
    const deadline = Date.now() + 20_000;
    while (pipeline.counters.events + (await duplicatesSoFar()) - duplicatesBefore < 22) {
      if (Date.now() > deadline) throw new Error("the worker did not consume every message in 20 s");
      await new Promise((r) => setTimeout(r, 100));
    }
    await pipeline.drain();
    expect(pipeline.counters.events).toBe(14);
    expect((await duplicatesSoFar()) - duplicatesBefore).toBe(8);
    expect(await storedLines()).toEqual({ checkout: 6, payment: 6, cart: 2 });
  }, 60_000);
});
