import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { loadConfig } from "../../src/config.js";
import type { TelemetryEvent } from "../../src/core/telemetry.js";
import { TOPICS } from "../../src/pipeline/bus/bus.js";
import { MemoryBus } from "../../src/pipeline/bus/memory.js";
import { HashingEmbedder } from "../../src/pipeline/embed/hashing.js";
import { redact } from "../../src/pipeline/redact.js";
import { type Pipeline, startPipeline } from "../../src/pipeline/run.js";
import { buildServer } from "../../src/server/app.js";
import { openFileBlobs } from "../../src/store/blobs/file.js";
import { migrate } from "../../src/store/migrate.js";
import type { Sql } from "../../src/store/ports.js";
import { capsuleId, listCapsules } from "../../src/store/repos/capsules.js";
import { openPglite } from "../../src/store/sql/pglite.js";
import { openMilvusVectors } from "../../src/store/vectors/milvus.js";
import { type PendingVectorStore, withPendingVectors } from "../../src/store/vectors/pending.js";
import { MILVUS_START_TIMEOUT_MS, type MilvusInstance, startMilvus } from "../helpers/milvus-server.js";
import { requireService } from "../helpers/services.js";

/**
 * Milvus stopped mid-ingest, for real: a Milvus of the test's own (never the shared one on 19530, which
 * other test files use at the same time) is stopped between two batches and started again. The capsules of
 * the second batch must be stored regardless, their vectors queued in pending_vectors, /health must name
 * the vector backend, and once Milvus is back the retry must put every queued vector into it.
 */

const T0 = Date.UTC(2026, 10, 1);
const log = (service: string, time: number, body: string): TelemetryEvent => ({
  schemaVersion: 1,
  kind: "log",
  service,
  time,
  attributes: {},
  log: { body, severity: "error", attributes: {} },
});
const batch = (templates: string[]) =>
  templates.flatMap((t, i) => [1, 2, 3].map((n) => log("checkout", T0 + i * 1000 + n, `${t} ${n * 17}`)));

describe("Milvus stopped mid-ingest", () => {
  let milvus: MilvusInstance | undefined;
  let sql: Sql;
  let vectors: PendingVectorStore;
  let bus: MemoryBus;
  let pipeline: Pipeline;
  let app: FastifyInstance;
  let dir: string;
  // A Milvus 2.3 read does not wait for the SDK's own writes, so reads after writes poll.
  const eventually = { timeout: 15_000, interval: 250 };

  beforeAll(async () => {
    await requireService("milvus (a second instance started by the test)", async () => {
      milvus = await startMilvus();
    });
    if (!milvus) return;
    dir = mkdtempSync(join(tmpdir(), "slo-scout-milvus-outage-"));
    sql = await openPglite("pglite://memory");
    await migrate(sql);
    const collection = `slo_scout_outage_${Date.now().toString(36)}_${process.pid}`;
    vectors = withPendingVectors(
      sql,
      await openMilvusVectors({ url: `milvus://${milvus.address}/${collection}` }),
      {
        retryMs: 0,
      },
    );
    bus = new MemoryBus();
    pipeline = await startPipeline({
      bus,
      sql,
      blobs: openFileBlobs(`file://${dir}`),
      redact,
      vectors,
      embedder: new HashingEmbedder(),
      allowedLatenessMs: 24 * 3_600_000,
    });
    const config = loadConfig({}, "/nonexistent/slo-scout.yml");
    app = await buildServer({ config, logger: pino({ level: "silent" }), sql, vectors });
  }, MILVUS_START_TIMEOUT_MS);

  afterAll(async () => {
    await pipeline?.stop();
    await app?.close();
    await vectors?.close();
    await bus?.close();
    await sql?.close();
    await milvus?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, MILVUS_START_TIMEOUT_MS);

  async function ingest(events: TelemetryEvent[]) {
    await bus.publish(
      TOPICS.rawTelemetry,
      events.map((e) => ({ key: e.service, value: e })),
    );
    await pipeline.drain();
  }

  const capsuleIds = async (templatePrefix: string) =>
    (await listCapsules(sql, { limit: 1000 }))
      .filter((c) => c.template.startsWith(templatePrefix))
      .map((c) => capsuleId(c))
      .sort();

  it(
    "stores capsules while it is down, queues their vectors, names it on /health, and fills them in after",
    async (ctx) => {
      if (!milvus) ctx.skip();
      expect(await vectors.retryPending()).toBe(0);

      await ingest(batch(["before outage alpha", "before outage beta"]));
      const before = await capsuleIds("before outage");
      expect(before).toHaveLength(2);
      await vi.waitFor(async () => {
        for (const id of before) expect(await vectors.get(id)).toBeDefined();
      }, eventually);
      expect((await app.inject({ method: "GET", url: "/health" })).statusCode).toBe(200);

      await milvus!.stop();

      const health = await app.inject({ method: "GET", url: "/health" });
      expect(health.statusCode).toBe(503);
      const body = health.json();
      expect(body.checks.db).toBe("ok");
      expect(body.checks.vectors).toMatch(new RegExp(`^error: milvus at ${milvus!.address}: `));
      expect(body.error.message).toContain(`vectors (milvus at ${milvus!.address}`);

      await ingest(batch(["during outage gamma", "during outage delta", "during outage epsilon"]));
      const during = await capsuleIds("during outage");
      expect(during).toHaveLength(3);
      const queued = await sql.query<{ id: string; last_error: string }>(
        "SELECT id, last_error FROM pending_vectors ORDER BY id",
      );
      expect(queued.rows.map((r) => r.id)).toEqual(during);
      expect(queued.rows[0]!.last_error).toMatch(/UNAVAILABLE|ECONNREFUSED|milvus/i);
      expect(await vectors.retryPending()).toBe(3);

      await milvus!.start();

      // The retry loop's work, run by hand: it succeeds once the client has reconnected.
      await vi.waitFor(async () => expect(await vectors.retryPending()).toBe(0), {
        timeout: 60_000,
        interval: 1000,
      });
      await vi.waitFor(async () => {
        for (const id of [...before, ...during]) expect(await vectors.get(id)).toBeDefined();
      }, eventually);
      const gamma = (await vectors.get(during[0]!))!;
      const [hit] = await vectors.search(gamma.vector, 1, { service: "checkout" });
      expect(hit?.id).toBe(during[0]);
      expect((await app.inject({ method: "GET", url: "/health" })).statusCode).toBe(200);
    },
    MILVUS_START_TIMEOUT_MS,
  );
});
