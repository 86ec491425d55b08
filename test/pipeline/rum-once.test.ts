import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { TelemetryEvent } from "../../src/core/telemetry.js";
import { createDemoShop } from "../../src/demo/index.js";
import { TOPICS } from "../../src/pipeline/bus/bus.js";
import { MemoryBus } from "../../src/pipeline/bus/memory.js";
import { decodeFaro } from "../../src/pipeline/receivers/faro.js";
import { redact } from "../../src/pipeline/redact.js";
import { type PipelineDeps, startPipeline } from "../../src/pipeline/run.js";
import { openFileBlobs } from "../../src/store/blobs/file.js";
import { migrate } from "../../src/store/migrate.js";
import type { Sql } from "../../src/store/ports.js";
import { openPglite } from "../../src/store/sql/pglite.js";

/**
 * Browser events are applied once however often they are delivered: each delivery here is a new process's
 * in-process bus (offsets start again at 0, as for `slo-scout ingest` run twice or a client's retry
 * landing at new offsets), so only the events' identity can tell a repeat.
 */

const fixture = readFileSync(new URL("../fixtures/receivers/faro.json", import.meta.url));
const HOUR = 3_600_000;

let sql: Sql;
let dir: string;
beforeAll(async () => {
  sql = await openPglite("pglite://memory");
  await migrate(sql);
  dir = mkdtempSync(join(tmpdir(), "slo-scout-rum-once-"));
}, 120_000);
afterAll(async () => {
  await sql.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  await sql.query(
    "TRUNCATE capsules, fingerprint_state, web_vital_stats, window_watermarks, applied_rum, services",
  );
});

/** One process's worth: a fresh bus and stream stage, the events published (in `deliveries` requests), drained. */
async function deliver(events: TelemetryEvent[], deliveries = 1, over: Partial<PipelineDeps> = {}) {
  const bus = new MemoryBus({ partitions: 2, maxBatch: 50, retryDelayMs: 5 });
  const pipeline = await startPipeline({
    bus,
    sql,
    blobs: openFileBlobs(`file://${dir}`),
    redact,
    allowedLatenessMs: 10 * 60_000,
    correctionHorizonMs: Number.POSITIVE_INFINITY,
    ...over,
  });
  for (let i = 0; i < deliveries; i++) {
    await bus.publish(
      TOPICS.rawTelemetry,
      events.map((e) => ({ key: e.service, value: e })),
    );
  }
  await pipeline.drain();
  await pipeline.stop();
  await bus.close();
}

async function vitalCounts(): Promise<Record<string, number>> {
  const { rows } = await sql.query<{ metric: string; n: number }>(
    "SELECT metric, sum(count)::int AS n FROM web_vital_stats GROUP BY metric ORDER BY metric",
  );
  return Object.fromEntries(rows.map((r) => [r.metric, r.n]));
}

async function capsuleCount(): Promise<number> {
  const { rows } = await sql.query<{ n: number | null }>("SELECT sum(count)::int AS n FROM capsules");
  return rows[0]?.n ?? 0;
}

const rumOf = (body: Uint8Array) =>
  decodeFaro(body, Date.UTC(2024, 9, 27, 4)).events.filter((e) => e.kind === "rum");

describe("browser events are applied exactly once", () => {
  it("the same Faro payload ingested twice, and posted twice in one run, changes no count", async () => {
    const events = rumOf(fixture);
    await deliver(events);
    const once = { vitals: await vitalCounts(), capsules: await capsuleCount() };
    expect(once.vitals).toEqual({ CLS: 1, INP: 1, LCP: 1 });
    expect(once.capsules).toBeGreaterThan(0);

    await deliver(events); // a second `slo-scout ingest` of the same file
    await deliver(events, 2); // a client retrying a request that was stored
    expect({ vitals: await vitalCounts(), capsules: await capsuleCount() }).toEqual(once);
  }, 60_000);

  it("counts distinct page loads that share a timestamp and values, and events without a session", async () => {
    const payload = JSON.parse(fixture.toString("utf8"));
    const other = { ...payload, meta: { ...payload.meta, session: { id: "s-other" } } };
    const anonymous = { ...payload, meta: { ...payload.meta, session: undefined } };
    const encode = (p: unknown) => new Uint8Array(Buffer.from(JSON.stringify(p)));
    await deliver([...rumOf(fixture), ...rumOf(encode(other))]);
    expect((await vitalCounts()).LCP).toBe(2);
    // Without a session id nothing identifies a page load: a repeat is counted (README says so).
    await deliver(rumOf(encode(anonymous)), 2);
    expect((await vitalCounts()).LCP).toBe(4);
  }, 60_000);

  it("the demo's browser telemetry loaded twice gives the same LCP counts", async () => {
    const shop = createDemoShop({ days: 1, end: Date.UTC(2026, 10, 2) });
    const rum = [...shop.rum()];
    const measured = rum.filter((e) => e.kind === "rum" && e.rum.values.lcp !== undefined).length;
    await deliver(rum);
    const first = await vitalCounts();
    expect(first.LCP).toBe(measured);
    await deliver(rum);
    expect(await vitalCounts()).toEqual(first);
  }, 60_000);

  it("an event dropped as too late is not marked applied, so an import of history still adds it", async () => {
    const [lcp] = rumOf(fixture).filter((e) => e.kind === "rum" && e.rum.values.lcp !== undefined);
    const recent = { ...lcp!, time: lcp!.time + 2 * 24 * HOUR, rum: { ...lcp!.rum, sessionId: "s-new" } };
    await deliver([recent, lcp!], 1, { correctionHorizonMs: HOUR });
    expect((await vitalCounts()).LCP).toBe(1);
    await deliver([lcp!]); // the importer: no correction horizon
    expect((await vitalCounts()).LCP).toBe(2);
  }, 60_000);
});
