import { randomUUID } from "node:crypto";
import Fastify, { type FastifyInstance } from "fastify";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigSchema } from "../../../src/config.js";
import { registry as processRegistry } from "../../../src/observability/metrics.js";
import { TOPICS } from "../../../src/pipeline/bus/bus.js";
import { KafkaBus } from "../../../src/pipeline/bus/kafka.js";
import { receiversPlugin } from "../../../src/pipeline/receivers/plugin.js";
import { kafkaBrokers, kafkaProbe } from "../../helpers/kafka-broker.js";
import { requireService } from "../../helpers/services.js";

/**
 * INGEST_MAX_BACKLOG on the real broker: a receivers-only process (no consumer in it) measures the
 * stream stage's consumer group through Kafka's admin API, so it holds its clients back however far away
 * the workers run. Its own topic prefix and group keep it apart from other tests.
 */

const brokers = kafkaBrokers();
const live = await requireService(`Kafka at ${brokers.join(",")}`, () => kafkaProbe(brokers));

const MAX_BACKLOG = 50;
const prefix = `backlog-${randomUUID().slice(0, 8)}.`;
const group = `pipeline-${randomUUID().slice(0, 8)}`;

let receiverBus: KafkaBus;
let app: FastifyInstance;
let url: string;

beforeAll(async () => {
  if (!live) return;
  receiverBus = new KafkaBus({
    brokers,
    clientId: "slo-scout-backlog-test",
    topicPrefix: prefix,
    lingerMs: 5,
    maxBacklog: { topic: TOPICS.rawTelemetry, group, messages: MAX_BACKLOG },
  });
  app = Fastify({ logger: false });
  await app.register(receiversPlugin, {
    bus: receiverBus,
    config: ConfigSchema.parse({ OTLP_GRPC_PORT: "0", HOST: "127.0.0.1" }),
    registry: new Registry(),
  });
  url = await app.listen({ host: "127.0.0.1", port: 0 });
}, 60_000);
afterAll(async () => {
  await app?.close();
  await receiverBus?.close();
});

/** A Fluent Bit json_lines request of `n` log lines. */
const post = (n: number) =>
  fetch(`${url}/ingest/fluentbit`, {
    method: "POST",
    headers: { "content-type": "application/x-ndjson" },
    body: Array.from({ length: n }, (_, i) =>
      JSON.stringify({ date: Date.now() / 1000, service: "checkout", log: `order ${i} placed` }),
    ).join("\n"),
  });

async function until<T>(what: string, probe: () => T | undefined, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const got = probe();
    if (got !== undefined) return got;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function backlogGauge(): Promise<number | undefined> {
  const metric = await processRegistry.getSingleMetric("slo_scout_pipeline_backlog_messages")?.get();
  return metric?.values.find((v) => v.labels.group === group)?.value;
}

describe.skipIf(!live)("INGEST_MAX_BACKLOG on Kafka", () => {
  it("refuses with 503 and the reason while the workers are behind, and accepts again once they caught up", async () => {
    // Under the bound: accepted, and the first request starts the measurements.
    expect((await post(40)).status).toBe(200);
    expect((await post(40)).status).toBe(200);
    // 80 messages on the topic and nobody in the group: over the bound once it is measured (about 1 s).
    const reason = await until("the backlog to be measured", () =>
      receiverBus.saturated(TOPICS.rawTelemetry),
    );
    expect(reason).toMatch(/the pipeline is 80 messages behind on raw-telemetry \(INGEST_MAX_BACKLOG 50\)/);
    expect(await backlogGauge()).toBe(80);
    const refused = await post(1);
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("2");
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(
      /80 messages behind on raw-telemetry \(INGEST_MAX_BACKLOG 50\): the workers \(consumer group pipeline-\w+\) are not keeping up; retry later/,
    );
    const refusals = await processRegistry
      .getSingleMetric("slo_scout_pipeline_backlog_refusals_total")
      ?.get();
    expect(refusals?.values.find((v) => v.labels.group === group)?.value).toBeGreaterThanOrEqual(1);

    // A worker in another process (here: another client) consumes and commits: the receivers take data again.
    const workerBus = new KafkaBus({ brokers, clientId: "slo-scout-backlog-worker", topicPrefix: prefix });
    let consumed = 0;
    try {
      await workerBus.subscribe(TOPICS.rawTelemetry, group, async (batch) => {
        consumed += batch.messages.length;
      });
      await until("the worker to catch up", () => (consumed >= 80 ? true : undefined), 15_000);
      await until("the receivers to accept again", () =>
        receiverBus.saturated(TOPICS.rawTelemetry) === undefined ? true : undefined,
      );
      expect(await backlogGauge()).toBe(0);
      expect((await post(1)).status).toBe(200);
    } finally {
      await workerBus.close();
    }
  }, 30_000);
});
