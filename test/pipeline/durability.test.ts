import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openSql } from "../../src/store/open.js";
import { listRouteStats, listWebVitalStats } from "../../src/store/repos/aggregates.js";
import { otlpTraceRequest, postTraces } from "../helpers/otlp-traces.js";
import { startServe } from "../helpers/serve-process.js";

/**
 * What a user's stop does to acknowledged data: a real `slo-scout serve` (PGlite, in-process bus) takes
 * traces over OTLP/HTTP, is stopped right after the last 200, and the store is read afterwards.
 */

// One data directory for both: creating the embedded database is most of a first start's time.
const dataDir = mkdtempSync(join(tmpdir(), "slo-scout-durability-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

async function storedRequests(service: string): Promise<number> {
  const sql = await openSql({ DATABASE_URL: `pglite://${dataDir}/db` });
  try {
    return (await listRouteStats(sql, { service })).reduce((n, r) => n + r.requests, 0);
  } finally {
    await sql.close();
  }
}

/** Page loads stored for a Faro app (LCP values). */
async function storedPageLoads(service: string): Promise<number> {
  const sql = await openSql({ DATABASE_URL: `pglite://${dataDir}/db` });
  try {
    return (await listWebVitalStats(sql, { service, metric: "LCP" })).reduce((n, v) => n + v.count, 0);
  } finally {
    await sql.close();
  }
}

const faro = readFileSync(new URL("../fixtures/receivers/faro.json", import.meta.url));

async function postFaro(url: string): Promise<void> {
  const res = await fetch(`${url}/ingest/rum`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: faro,
  });
  expect(res.status).toBe(202);
}

/** Posts `traces` traces in requests of 50, each answered 200; returns how many were acknowledged. */
async function postAcked(url: string, service: string, traces: number): Promise<number> {
  let acked = 0;
  const now = Date.now();
  for (let i = 0; i < traces; i += 50) {
    const times = Array.from({ length: Math.min(50, traces - i) }, (_, j) => now - 60_000 + (i + j) * 10);
    const res = await postTraces(url, otlpTraceRequest(service, times));
    expect(res.status).toBe(200);
    acked += times.length;
  }
  return acked;
}

describe("acknowledged traces across a stop", () => {
  it("SIGTERM right after the last acknowledgement: every acknowledged trace is counted", async () => {
    const serve = await startServe(dataDir);
    const acked = await postAcked(serve.url, "orders", 201);
    expect(await serve.stop("SIGTERM")).toBe(0);
    expect(serve.output()).toMatch(/pipeline: stopped; drained 201 open traces/);
    expect(await storedRequests("orders")).toBe(acked);
  }, 120_000);

  it("SIGKILL right after the last acknowledgement: the next start replays the spool and counts every trace and page load once", async () => {
    const first = await startServe(dataDir);
    // A browser's page load, posted twice (Faro retrying a request whose answer it lost): one page load.
    await postFaro(first.url);
    await postFaro(first.url);
    const acked = await postAcked(first.url, "payments", 201);
    expect(await first.stop("SIGKILL")).toBeNull();
    const second = await startServe(dataDir);
    expect(second.output()).toMatch(/ingest spool: replaying \d+ spooled events/);
    expect(await second.stop("SIGTERM")).toBe(0);
    expect(await storedRequests("payments")).toBe(acked);
    expect(await storedPageLoads("shop-web")).toBe(1);
  }, 180_000);
});
