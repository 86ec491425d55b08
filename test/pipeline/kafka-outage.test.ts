import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kafka, logLevel } from "kafkajs";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigSchema } from "../../src/config.js";
import { TOPICS } from "../../src/pipeline/bus/bus.js";
import { KafkaBus, MESSAGE_ID_HEADER } from "../../src/pipeline/bus/kafka.js";
import type { Pipeline } from "../../src/pipeline/run.js";
import { startConfiguredPipeline } from "../../src/pipeline/worker.js";
import { buildServer } from "../../src/server/app.js";
import type { ServerDeps } from "../../src/server/deps.js";
import { RECEIVER_ROUTES } from "../../src/server/routes.js";
import { openFileBlobs } from "../../src/store/blobs/file.js";
import { migrate } from "../../src/store/migrate.js";
import type { Sql } from "../../src/store/ports.js";
import { openPglite } from "../../src/store/sql/pglite.js";
import { type KafkaBroker, startKafkaBroker } from "../helpers/kafka-broker.js";
import { requireService } from "../helpers/services.js";

/**
 * The Kafka broker killed mid-ingest and started again on its data, on a broker of this test's own (the
 * shared one on 9092 serves other files in parallel): while it is down the receivers answer 503 +
 * Retry-After within a bounded time, and once it is back every record a client got a 2xx for is counted
 * exactly once. Wired as a scale-out deployment runs: an API process (receivers) and a pipeline worker,
 * each with its own Kafka client, sharing only the broker and the store.
 */

let broker: KafkaBroker | undefined;
const kafkaUp = await requireService(
  "a throwaway Kafka broker (jars from scripts/services.sh up kafka)",
  async () => {
    broker = await startKafkaBroker();
  },
);

const SERVICE = "shop";
const LOGS_PER_REQUEST = 3;
/** A 503 must come at least this fast: an OTLP exporter's own request timeout is 10 s by default. */
const MAX_REFUSAL_MS = 5_000;

/**
 * One OTLP/JSON request of a kind, named by `id` so the store shows which requests it holds: a trace with
 * its root server span (`id` is the trace id), or log lines of a service of their own (`id` is the service).
 */
function otlpBody(kind: "traces" | "logs", id: string): string {
  const nanos = `${BigInt(Date.now()) * 1_000_000n}`;
  if (kind === "traces") {
    const resource = { attributes: [{ key: "service.name", value: { stringValue: SERVICE } }] };
    const span = {
      traceId: id,
      spanId: randomBytes(8).toString("hex"),
      name: "POST /checkout",
      kind: 2,
      startTimeUnixNano: nanos,
      endTimeUnixNano: nanos,
      attributes: [
        { key: "http.request.method", value: { stringValue: "POST" } },
        { key: "http.route", value: { stringValue: "/checkout" } },
        { key: "http.response.status_code", value: { intValue: "200" } },
      ],
    };
    return JSON.stringify({ resourceSpans: [{ resource, scopeSpans: [{ spans: [span] }] }] });
  }
  const resource = { attributes: [{ key: "service.name", value: { stringValue: id } }] };
  const logRecords = Array.from({ length: LOGS_PER_REQUEST }, (_, i) => ({
    timeUnixNano: nanos,
    severityNumber: 9,
    body: { stringValue: `order ${i} placed` },
  }));
  return JSON.stringify({ resourceLogs: [{ resource, scopeLogs: [{ logRecords }] }] });
}

interface Tally {
  /** The ids of the requests answered 2xx, by kind. */
  acknowledged: { traces: string[]; logs: string[] };
  /** The ids of the requests answered 503. */
  refused: { traces: string[]; logs: string[] };
  /** Retry-After values of the 503s; every one must carry the header. */
  retryAfter: Set<string | null>;
  /** The slowest 503, in ms. */
  slowestRefusal: number;
  /** Any other answer, or none within 15 s. */
  other: string[];
}

/**
 * Senders posting one request after another, each once. An exporter would keep a refused request and send
 * it again; these do not, so each record is acknowledged or refused, never both, and the store can be
 * checked record by record.
 */
function startClients(url: string, senders: number) {
  const tally: Tally = {
    acknowledged: { traces: [], logs: [] },
    refused: { traces: [], logs: [] },
    retryAfter: new Set(),
    slowestRefusal: 0,
    other: [],
  };
  let stopping = false;
  let seq = 0;
  async function sender() {
    while (!stopping) {
      const n = seq++;
      const kind = n % 2 === 0 ? "traces" : "logs";
      const id = kind === "traces" ? randomBytes(16).toString("hex") : `logs-${n}`;
      const started = Date.now();
      try {
        const res = await fetch(`${url}/v1/${kind}`, {
          method: "POST",
          body: otlpBody(kind, id),
          headers: { "content-type": "application/json" },
          signal: AbortSignal.timeout(15_000),
        });
        await res.arrayBuffer();
        if (res.ok) tally.acknowledged[kind].push(id);
        else if (res.status === 503) {
          tally.refused[kind].push(id);
          tally.slowestRefusal = Math.max(tally.slowestRefusal, Date.now() - started);
          tally.retryAfter.add(res.headers.get("retry-after"));
        } else tally.other.push(`${res.status} on /v1/${kind}`);
      } catch (err) {
        tally.other.push(`${(err as Error).name} after ${Date.now() - started} ms on /v1/${kind}`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  const running = Promise.all(Array.from({ length: senders }, sender));
  return {
    tally,
    /** Stops starting requests; resolves once every started one was answered. */
    stop: () => {
      stopping = true;
      return running;
    },
  };
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.runIf(kafkaUp)("Kafka broker stopped mid-ingest", () => {
  let dir: string;
  let sql: Sql;
  let deps: ServerDeps;
  let workerBus: KafkaBus;
  let pipeline: Pipeline;
  let app: Awaited<ReturnType<typeof buildServer>>;
  let url: string;
  const prefix = `outage-${randomUUID().slice(0, 8)}.`;
  const logged: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "slo-scout-kafka-outage-"));
    const config = ConfigSchema.parse({
      DATABASE_URL: "pglite://memory",
      BLOB_URL: `file://${dir}/blobs`,
      KAFKA_BROKERS: broker!.brokers.join(","),
      HOST: "127.0.0.1",
      OTLP_GRPC_PORT: "0",
      LOG_LEVEL: "silent",
    });
    sql = await openPglite("pglite://memory");
    await migrate(sql);
    // Errors are kept, not printed: kafkajs's must come through this logger (a line per retry while the
    // broker is gone), not its own console one.
    const logger = pino({ level: "error" }, { write: (line: string) => void logged.push(line) });
    // What openBus builds for KAFKA_BROKERS, with a topic prefix of this run's own.
    const bus = (clientId: string) =>
      new KafkaBus({ brokers: broker!.brokers, clientId, topicPrefix: prefix, logger });
    deps = { config, logger, sql, blobs: openFileBlobs(config.BLOB_URL), bus: bus("slo-scout-api") };
    workerBus = bus("slo-scout-worker");
    app = await buildServer(deps, { plugins: RECEIVER_ROUTES });
    pipeline = await startConfiguredPipeline(config, { bus: workerBus, sql, blobs: deps.blobs!, logger });
    url = await app.listen({ host: "127.0.0.1", port: 0 });
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await pipeline?.stop();
    await deps?.bus?.close();
    await workerBus?.close();
    await sql?.close();
    await broker?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it("answers 503 + Retry-After while it is down and stores every acknowledged record once after it returns", async () => {
    const started = Date.now();
    const clients = startClients(url, 3);
    const { tally } = clients;
    const count = (t: { traces: string[]; logs: string[] }) => t.traces.length + t.logs.length;
    await until("ingest before the outage", () => count(tally.acknowledged) >= 60);

    const down = Date.now();
    await broker!.stop();
    await until("503s while Kafka is down", () => count(tally.refused) >= 10);
    const health = await fetch(`${url}/health`);
    const checks = ((await health.json()) as { checks: Record<string, string> }).checks;
    expect(health.status).toBe(503);
    expect(checks.bus).toMatch(/^error/);
    expect(logged.some((line) => JSON.parse(line).kafkajs !== undefined)).toBe(true);
    // Down well past the producer's retry budget (about a second), however fast the broker starts again.
    await until("5 s of outage", () => Date.now() - down >= 5_000);
    const refusedWhileDown = count(tally.refused);

    const restarting = Date.now();
    await broker!.start();
    const up = Date.now();
    const ackedAtStart = count(tally.acknowledged);
    await until("an acknowledged request after the restart", () => count(tally.acknowledged) > ackedAtStart);
    const firstAckMs = Date.now() - up;
    await until("ingest after the restart", () => count(tally.acknowledged) >= ackedAtStart + 60);
    await clients.stop();

    // Everything on the topic (the acknowledged records, and any of a refused request the broker wrote
    // before it died) reaches the worker once. kafkajs's producer resends a whole request when one of its
    // partitions failed, so the topic can hold a record twice, at two offsets, under one message id: the
    // worker's event count meets the distinct ids on the topic, read from its beginning.
    const topic = `${prefix}${TOPICS.rawTelemetry}`;
    const kafka = new Kafka({ brokers: broker!.brokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    const onTopic = (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);
    await admin.disconnect();
    const ids = new Set<string>();
    let read = 0;
    let withoutId = 0;
    const reader = kafka.consumer({ groupId: `${prefix}check-${randomUUID()}` });
    await reader.connect();
    try {
      await reader.subscribe({ topics: [topic], fromBeginning: true });
      await reader.run({
        eachMessage: async ({ message }) => {
          read++;
          const id = message.headers?.[MESSAGE_ID_HEADER]?.toString();
          if (id === undefined) withoutId++;
          else ids.add(id);
        },
      });
      await until("the topic read from its beginning", () => read >= onTopic, 60_000);
    } finally {
      await reader.disconnect();
    }
    const distinct = ids.size;
    // The worker's consumer crashed while the broker was gone and rejoins its group as a new member; the
    // coordinator first waits out the old member's session (kafkajs's default, 30 s), and on a loaded machine
    // the first rejoin can miss and wait out another (a CI run at load average 14 did).
    await until("the worker to consume the topic", () => pipeline.counters.events >= distinct, 120_000);
    const caughtUpMs = Date.now() - up;
    await pipeline.drain();

    const traces = new Set(
      (await sql.query<{ trace_id: string }>("SELECT trace_id FROM applied_traces")).rows.map(
        (r) => r.trace_id,
      ),
    );
    const requests = Number(
      (
        await sql.query<{ n: string }>(
          `SELECT coalesce(sum(requests), 0) AS n FROM route_stats WHERE service = '${SERVICE}'`,
        )
      ).rows[0]!.n,
    );
    const logLines = new Map(
      (
        await sql.query<{ service: string; n: string }>(
          "SELECT service, sum(count) AS n FROM capsules GROUP BY service",
        )
      ).rows.map((r) => [r.service, Number(r.n)]),
    );
    const storedLogLines = [...logLines.values()].reduce((a, b) => a + b, 0);
    const acknowledgedRecords =
      tally.acknowledged.traces.length + tally.acknowledged.logs.length * LOGS_PER_REQUEST;
    const refusedRecords = tally.refused.traces.length + tally.refused.logs.length * LOGS_PER_REQUEST;
    process.stderr.write(
      `[kafka outage] sent ${count(tally.acknowledged) + count(tally.refused)} requests ` +
        `(${acknowledgedRecords + refusedRecords} records): acknowledged ${count(tally.acknowledged)} ` +
        `(${tally.acknowledged.traces.length} spans + ${tally.acknowledged.logs.length * LOGS_PER_REQUEST} log lines), ` +
        `503 ${count(tally.refused)} (${refusedRecords} records; ${refusedWhileDown} before the restart began, ` +
        `slowest ${tally.slowestRefusal} ms); ${onTopic} records on the topic, ${distinct} distinct ids ` +
        `(${onTopic - distinct} duplicates written by resends); stored ${requests} requests / ` +
        `${traces.size} traces / ${storedLogLines} log lines; down ${up - down} ms (${up - restarting} ms of it ` +
        `starting again); first 2xx ${firstAckMs} ms ` +
        `after the restart, worker caught up ${caughtUpMs} ms after it; ${Date.now() - started} ms in all\n`,
    );

    expect(tally.other).toEqual([]);
    expect(count(tally.refused)).toBeGreaterThanOrEqual(10);
    expect([...tally.retryAfter]).toEqual(["2"]);
    expect(tally.slowestRefusal).toBeLessThan(MAX_REFUSAL_MS);
    // Every acknowledged record is stored, once; a refused one at most once (the broker may have written
    // it before it died), and nothing else is stored.
    expect(tally.acknowledged.traces.filter((id) => !traces.has(id))).toEqual([]);
    expect(requests).toBe(traces.size);
    const sentTraces = new Set([...tally.acknowledged.traces, ...tally.refused.traces]);
    expect([...traces].filter((id) => !sentTraces.has(id))).toEqual([]);
    expect(tally.acknowledged.logs.filter((id) => logLines.get(id) !== LOGS_PER_REQUEST)).toEqual([]);
    expect(
      tally.refused.logs.filter((id) => ![undefined, LOGS_PER_REQUEST].includes(logLines.get(id))),
    ).toEqual([]);
    const sentLogs = new Set([...tally.acknowledged.logs, ...tally.refused.logs]);
    expect([...logLines.keys()].filter((service) => !sentLogs.has(service))).toEqual([]);
    expect(read).toBe(onTopic);
    expect(withoutId).toBe(0);
    expect(traces.size + storedLogLines).toBe(distinct);
  }, 240_000);
});
