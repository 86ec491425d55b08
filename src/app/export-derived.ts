import { latestDataTime } from "../analysis/analyze.js";
import {
  type DerivedCounter,
  logEventCounters,
  type SampleGrid,
  sampleCounter,
  webVitalCounters,
} from "../analysis/derived-series.js";
import { PrometheusError } from "../pipeline/prometheus-reader.js";
import { RemoteWriteClient } from "../pipeline/remote-write-client.js";
import { listWebVitalStats } from "../store/repos/aggregates.js";
import { listLogWindowCounts } from "../store/repos/capsules.js";
import type { AppContext } from "./context.js";
import { done, type Outcome, refuse } from "./outcome.js";

/**
 * Writes SLO-Scout's derived series — the counters behind log and RUM SLIs — with their history to a
 * Prometheus over remote_write, so the log and RUM rules SLO-Scout generates run in the team's Prometheus
 * on the same numbers analysis measured. remote_write rather than a scrape endpoint: a scrape carries one
 * sample per series at the time of the scrape, so a Prometheus that starts scraping today would have none
 * of the weeks of history the rules' windows (up to the SLO period) and analysis read; remote_write carries
 * every sample with its own timestamp. Samples go oldest first (what Prometheus's TSDB accepts without an
 * out-of-order window); a later run with `since` continues the same counters from where they stood.
 */

export interface ExportDerivedRequest {
  /** A remote_write endpoint; REMOTE_WRITE_URL when absent. */
  url?: string;
  /** Write samples from this time (ms) on; earlier history still counts in the counters' values. */
  since?: number;
  /** Or from this long before `until` (ms). */
  sinceBeforeEndMs?: number;
  /** Up to this time (ms); the newest stored data when absent. */
  until?: number;
  /** Sample interval (ms); 1 minute by default, a scrape interval the rules' 5-minute windows need. */
  stepMs?: number;
}

export interface ExportDerivedResult {
  url: string;
  series: number;
  samples: number;
  requests: number;
  /** First and last sample time written. */
  start: number;
  end: number;
  stepMs: number;
}

const SLICE_MS = 30 * 60_000;

export async function exportDerived(
  app: AppContext,
  req: ExportDerivedRequest = {},
): Promise<Outcome<ExportDerivedResult>> {
  const url = req.url ?? app.config.REMOTE_WRITE_URL;
  if (!url) {
    return refuse(
      "bad-request",
      "no remote_write endpoint: set REMOTE_WRITE_URL (e.g. http://prometheus:9090/api/v1/write) or pass one",
    );
  }
  const stepMs = req.stepMs ?? 60_000;
  if (!(stepMs >= 1000 && Number.isInteger(stepMs / 1000))) {
    return refuse("bad-request", `step ${stepMs} ms must be a whole number of seconds, at least 1s`);
  }
  const latest = req.until ?? (await latestDataTime(app.sql));
  if (latest === undefined)
    return refuse("bad-request", "nothing is stored yet: no log or RUM history to export");
  const until = latest;
  const counters: DerivedCounter[] = [
    ...logEventCounters(await listLogWindowCounts(app.sql, { until })),
    ...webVitalCounters(await listWebVitalStats(app.sql, { until })),
  ];
  if (counters.length === 0)
    return refuse("bad-request", "no log capsules or web vitals are stored to export");
  const first = Math.min(...counters.map((c) => c.since));
  const grid: SampleGrid = {
    start: Math.floor(first / stepMs) * stepMs,
    end: Math.floor(until / stepMs) * stepMs,
    stepMs,
  };
  const since = req.since ?? (req.sinceBeforeEndMs !== undefined ? until - req.sinceBeforeEndMs : grid.start);
  const from = Math.max(grid.start, since);
  let client: RemoteWriteClient;
  try {
    client = new RemoteWriteClient(url, { sliceMs: SLICE_MS });
  } catch (err) {
    return refuse("bad-request", (err as Error).message);
  }
  const result: ExportDerivedResult = {
    url,
    series: counters.length,
    samples: 0,
    requests: 0,
    start: Number.POSITIVE_INFINITY,
    end: Number.NEGATIVE_INFINITY,
    stepMs,
  };
  // Slice by slice, so memory holds one slice of samples however long the history is.
  for (let a = from; a <= grid.end; a += SLICE_MS) {
    const slice = counters
      .map((c) => sampleCounter(c, grid, a, a + SLICE_MS))
      .filter((s) => s.timestamps.length > 0);
    if (slice.length === 0) continue;
    let written: Awaited<ReturnType<RemoteWriteClient["writeHistory"]>>;
    try {
      written = await client.writeHistory(slice);
    } catch (err) {
      // A 4xx is about what was sent (e.g. samples older than the server takes); anything else is an outage.
      const status = err instanceof PrometheusError ? err.status : undefined;
      if (status !== undefined && status >= 400 && status < 500)
        return refuse("bad-request", (err as Error).message);
      throw err;
    }
    result.samples += written.samples;
    result.requests += written.requests;
    for (const s of slice) {
      result.start = Math.min(result.start, s.timestamps[0]!);
      result.end = Math.max(result.end, s.timestamps[s.timestamps.length - 1]!);
    }
  }
  return done(result);
}
