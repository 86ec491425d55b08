import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigSchema } from "../../src/config.js";
import { openBus } from "../../src/pipeline/bus/open.js";
import type { Pipeline } from "../../src/pipeline/run.js";
import { startConfiguredPipeline } from "../../src/pipeline/worker.js";
import { buildServer } from "../../src/server/app.js";
import type { ServerDeps } from "../../src/server/deps.js";
import { RECEIVER_ROUTES } from "../../src/server/routes.js";
import { openFileBlobs } from "../../src/store/blobs/file.js";
import { migrate } from "../../src/store/migrate.js";
import type { Sql } from "../../src/store/ports.js";
import { openPostgres } from "../../src/store/sql/postgres.js";
import { type PostgresInstance, startPostgresInstance } from "../helpers/postgres-instance.js";
import { requireService } from "../helpers/services.js";

/**
 * The relational store stopped mid-ingest and started again, on a Postgres of this test's own: while it
 * is down the receivers answer 503 + Retry-After (clients keep the data and retry), the stream stage
 * retries the batch it could not store, and afterwards every record a client got a 2xx for is counted
 * exactly once. The server is wired as `slo-scout serve` wires it: receivers, in-process bus, stream stage.
 */

let pg: PostgresInstance | undefined;
const pgUp = await requireService("a throwaway Postgres (initdb, pg_ctl)", async () => {
  pg = await startPostgresInstance();
});

const SERVICE = "shop";
const LOGS_PER_REQUEST = 3;

/** One OTLP/JSON request of a kind: a trace with its root server span, or a batch of log lines. */
function otlpBody(kind: "traces" | "logs", n: number): string {
  const resource = { attributes: [{ key: "service.name", value: { stringValue: SERVICE } }] };
  const nanos = `${BigInt(Date.now()) * 1_000_000n}`;
  if (kind === "traces") {
    const span = {
      traceId: randomBytes(16).toString("hex"),
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
  const logRecords = Array.from({ length: LOGS_PER_REQUEST }, (_, i) => ({
    timeUnixNano: nanos,
    severityNumber: 9,
    body: { stringValue: `order ${n * LOGS_PER_REQUEST + i} placed` },
  }));
  return JSON.stringify({ resourceLogs: [{ resource, scopeLogs: [{ logRecords }] }] });
}

interface Tally {
  acknowledged: { traces: number; logs: number };
  refused: number;
  /** Retry-After values of the 503s; every one must carry the header. */
  retryAfter: Set<string | null>;
  other: string[];
}

/**
 * Senders like an OTLP exporter: each request is retried whole until it gets a 2xx, waiting after a 503
 * (100 ms here, instead of the 2 s Retry-After, to keep the test short).
 */
function startClients(url: string, senders: number) {
  const tally: Tally = { acknowledged: { traces: 0, logs: 0 }, refused: 0, retryAfter: new Set(), other: [] };
  let stopping = false;
  let seq = 0;
  async function sender() {
    while (!stopping) {
      const n = seq++;
      const kind = n % 2 === 0 ? "traces" : "logs";
      const body = otlpBody(kind, n);
      for (;;) {
        const res = await fetch(`${url}/v1/${kind}`, {
          method: "POST",
          body,
          headers: { "content-type": "application/json" },
        });
        await res.arrayBuffer();
        if (res.ok) {
          tally.acknowledged[kind]++;
          break;
        }
        if (res.status !== 503) tally.other.push(`${res.status} on /v1/${kind}`);
        tally.refused++;
        tally.retryAfter.add(res.headers.get("retry-after"));
        await new Promise((r) => setTimeout(r, 100));
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  const running = Promise.all(Array.from({ length: senders }, sender));
  return {
    tally,
    /** Stops starting requests; resolves once every started one was acknowledged. */
    stop: () => {
      stopping = true;
      return running;
    },
  };
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.runIf(pgUp)("Postgres stopped mid-ingest", () => {
  let dir: string;
  let sql: Sql;
  let deps: ServerDeps;
  let pipeline: Pipeline;
  let app: Awaited<ReturnType<typeof buildServer>>;
  let url: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "slo-scout-pg-outage-"));
    const config = ConfigSchema.parse({
      DATABASE_URL: pg!.url,
      BLOB_URL: `file://${dir}/blobs`,
      HOST: "127.0.0.1",
      OTLP_GRPC_PORT: "0",
      LOG_LEVEL: "silent",
    });
    sql = await openPostgres(pg!.url, { max: 4 });
    await migrate(sql);
    const logger = pino({ level: "silent" });
    deps = { config, logger, sql, blobs: openFileBlobs(config.BLOB_URL), bus: openBus(config, logger) };
    app = await buildServer(deps, { plugins: RECEIVER_ROUTES });
    pipeline = await startConfiguredPipeline(config, { bus: deps.bus!, sql, blobs: deps.blobs!, logger });
    url = await app.listen({ host: "127.0.0.1", port: 0 });
  });

  afterAll(async () => {
    await app?.close();
    await pipeline?.stop();
    await deps?.bus?.close();
    await sql?.close();
    await pg?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("answers 503 + Retry-After while it is down and stores every acknowledged record once after it returns", async () => {
    const started = Date.now();
    const clients = startClients(url, 3);
    const { tally } = clients;
    const acked = () => tally.acknowledged.traces + tally.acknowledged.logs;
    await until("ingest before the outage", () => acked() >= 60);

    const ackedAtStop = acked();
    const down = Date.now();
    await pg!.stop();
    await until("503s while Postgres is down", () => tally.refused >= 10);
    const health = await fetch(`${url}/health`);
    const checks = ((await health.json()) as { checks: Record<string, string> }).checks;
    expect(health.status).toBe(503);
    expect(checks.db).toMatch(/^error/);
    // Held long enough for the stage to retry its batch many times (every 200 ms).
    await new Promise((r) => setTimeout(r, 2_000));
    const ackedWhileDown = acked() - ackedAtStop;

    await pg!.start();
    const up = Date.now();
    const ackedAtStart = acked();
    await until("ingest after the restart", () => acked() >= ackedAtStart + 60);
    const firstOkAfterMs = Date.now() - up;
    await clients.stop();
    await pipeline.drain();

    const sum = async (q: string) => Number((await sql.query<{ n: string }>(q)).rows[0]?.n ?? 0);
    const stored = {
      requests: await sum(
        `SELECT coalesce(sum(requests), 0) AS n FROM route_stats WHERE service = '${SERVICE}'`,
      ),
      traces: await sum("SELECT count(*) AS n FROM applied_traces"),
      logLines: await sum(`SELECT coalesce(sum(count), 0) AS n FROM capsules WHERE service = '${SERVICE}'`),
    };
    process.stderr.write(
      `[postgres outage] acknowledged ${tally.acknowledged.traces} traces + ${tally.acknowledged.logs * LOGS_PER_REQUEST} log lines ` +
        `(${ackedWhileDown} requests acknowledged from the stop until the stage saw it fail), ${tally.refused} answers 503; ` +
        `stored ${stored.requests} requests / ${stored.traces} traces / ${stored.logLines} log lines; ` +
        `down ${up - down} ms, ${firstOkAfterMs} ms to 60 acknowledged after the restart, ${Date.now() - started} ms in all\n`,
    );

    expect(tally.other).toEqual([]);
    expect(tally.refused).toBeGreaterThanOrEqual(10);
    expect([...tally.retryAfter]).toEqual(["2"]);
    expect(stored).toEqual({
      requests: tally.acknowledged.traces,
      traces: tally.acknowledged.traces,
      logLines: tally.acknowledged.logs * LOGS_PER_REQUEST,
    });
  }, 60_000);
});
