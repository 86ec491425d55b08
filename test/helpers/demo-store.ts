import type { TelemetryEvent } from "../../src/core/telemetry.js";
import { createDemoShop, type DemoShop } from "../../src/demo/index.js";
import { TOPICS } from "../../src/pipeline/bus/bus.js";
import { MemoryBus } from "../../src/pipeline/bus/memory.js";
import { redact } from "../../src/pipeline/redact.js";
import { SeededRandom } from "../../src/pipeline/reservoir.js";
import { startPipeline } from "../../src/pipeline/run.js";
import { openFileBlobs } from "../../src/store/blobs/file.js";
import type { Sql } from "../../src/store/ports.js";

/** The small demo shop's sample step: coarse, so the analysis tests and recordings run in seconds. */
export const SMALL_DEMO_STEP_SECONDS = 1800;
export const SMALL_DEMO_END = Date.UTC(2026, 10, 23);

/**
 * The small demo shop (8 days unless told otherwise, seeded, few traces) through the stream stage into `sql`, the same way for
 * the analysis test and the fixtures recorded from it; blobs go under `blobsDir`.
 */
export async function storeSmallDemo(
  sql: Sql,
  blobsDir: string,
  days = 8,
  /** Another end than SMALL_DEMO_END; signals to leave out (e.g. metrics, for a test about logs and RUM). */
  options: {
    end?: number;
    without?: TelemetryEvent["kind"][];
    /** Another sample step than SMALL_DEMO_STEP_SECONDS (a chat's `analyze` reads at 5 minutes). */
    stepSeconds?: number;
    /** Keeps only the events it accepts (e.g. one service's metrics, to load a finer step cheaply). */
    keep?: (event: TelemetryEvent) => boolean;
  } = {},
): Promise<DemoShop> {
  const shop = createDemoShop({
    seed: 7,
    days,
    end: options.end ?? SMALL_DEMO_END,
    stepSeconds: options.stepSeconds ?? SMALL_DEMO_STEP_SECONDS,
    metricChunkSeconds: 6 * 3600,
    tracesPerJourneyPerHour: 1,
    logsPerServicePerHour: 2,
    rumPageLoadsPerPagePerHour: 1,
  });
  const bus = new MemoryBus({ partitions: 2, capacity: 1_000_000 });
  const random = new SeededRandom(3);
  const pipeline = await startPipeline({
    bus,
    sql,
    blobs: openFileBlobs(`file://${blobsDir}`),
    redact,
    allowedLatenessMs: 2 * 3_600_000,
    random: () => random.next(),
  });
  const batch: { key: string; value: unknown }[] = [];
  for (const ev of shop.all()) {
    if (options.without?.includes(ev.kind) || (options.keep && !options.keep(ev))) continue;
    batch.push({ key: ev.service, value: ev });
    if (batch.length >= 5000) await bus.publish(TOPICS.rawTelemetry, batch.splice(0));
  }
  await bus.publish(TOPICS.rawTelemetry, batch.splice(0));
  await pipeline.drain();
  await pipeline.stop();
  return shop;
}
