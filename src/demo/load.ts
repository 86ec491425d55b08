import type { Bus } from "../pipeline/bus/bus.js";
import type { Ingestor } from "../pipeline/receivers/backpressure.js";
import { Feeder, type FeedSummary } from "../pipeline/receivers/feeder.js";
import { validateEvents } from "../pipeline/receivers/offline.js";
import type { DemoShop } from "./index.js";

/** Events per chunk: large enough that per-chunk costs vanish, small enough to hold little memory. */
const CHUNK = 5000;

export interface DemoLoadProgress {
  done: number;
  /** Expected events (the sampled signals are drawn, so `done` may end a little off it). */
  total: number;
  summary: FeedSummary;
}

/**
 * The one way the demo shop enters SLO-Scout (`ingest --demo` and the first `npm start`): its events,
 * checked against the TelemetryEvent contract as a receiver checks what it decoded, go through the
 * receivers' Ingestor onto `raw-telemetry` in chunks, for whatever consumes the bus to store.
 * `consumed` says whether something does (see Feeder).
 */
export async function loadDemoShop(
  shop: DemoShop,
  sink: { ingestor: Ingestor; bus: Bus; consumed: boolean },
  onProgress?: (p: DemoLoadProgress) => void,
): Promise<FeedSummary> {
  const total = demoEventCount(shop);
  const feeder = new Feeder(sink.ingestor, sink.bus, "demo", sink.consumed);
  let chunk: unknown[] = [];
  let done = 0;
  const flush = async () => {
    await feeder.feed("demo", validateEvents(chunk));
    done += chunk.length;
    chunk = [];
    onProgress?.({ done, total, summary: feeder.summary });
  };
  for (const ev of shop.all()) {
    chunk.push(ev);
    if (chunk.length >= CHUNK) await flush();
  }
  if (chunk.length > 0) await flush();
  return feeder.summary;
}

/** Expected events of the shop, for a progress total before loading starts. */
export function demoEventCount(shop: DemoShop): number {
  const c = shop.counts();
  return Math.round(c.metricEvents + c.spans + c.logs + c.rum);
}
