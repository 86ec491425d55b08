import snappy from "snappyjs";
import { prometheusType } from "./prometheus-proto.js";
import { PrometheusError, prometheusHttpUrl } from "./prometheus-reader.js";

/**
 * Sends series with their samples to a Prometheus remote_write 1.0 receiver (a Prometheus started with
 * `--web.enable-remote-write-receiver`, Mimir, Thanos receive, VictoriaMetrics, …). History goes in time
 * order, one slice of every series per request: Prometheus's TSDB takes a sample only if it is at most an
 * hour older than the newest it holds (unless an out-of-order window is configured), so weeks of history
 * sent series by series would be refused after the first series.
 */

export interface WriteSeries {
  /** `__name__` included. */
  labels: Record<string, string>;
  /** Epoch ms, ascending. */
  timestamps: ArrayLike<number>;
  values: ArrayLike<number>;
}

export interface RemoteWriteOptions {
  timeoutMs?: number;
  headers?: Record<string, string>;
  /** Time covered by one request (default 30 minutes, well inside the TSDB's one-hour append window). */
  sliceMs?: number;
  /** Samples per request before a slice is split further (default 50,000). */
  maxSamplesPerRequest?: number;
  /** Attempts per request on 5xx and 429 (default 5), with backoff. */
  attempts?: number;
  fetch?: typeof fetch;
}

export interface RemoteWriteSummary {
  requests: number;
  samples: number;
  series: number;
}

export class RemoteWriteClient {
  private readonly fetchFn: typeof fetch;

  constructor(
    readonly url: string,
    private readonly options: RemoteWriteOptions = {},
  ) {
    prometheusHttpUrl(url, "remote_write URL", "http://localhost:9090/api/v1/write");
    this.fetchFn = options.fetch ?? fetch;
  }

  /** Every sample of `series`, oldest slice first. */
  async writeHistory(series: readonly WriteSeries[]): Promise<RemoteWriteSummary> {
    const sliceMs = this.options.sliceMs ?? 30 * 60_000;
    const max = this.options.maxSamplesPerRequest ?? 50_000;
    const cursors = series.map(() => 0);
    let from = Number.POSITIVE_INFINITY;
    for (const s of series) if (s.timestamps.length) from = Math.min(from, s.timestamps[0]!);
    const summary: RemoteWriteSummary = { requests: 0, samples: 0, series: series.length };
    let pending: { labels: Record<string, string>; samples: { timestamp: number; value: number }[] }[] = [];
    let pendingSamples = 0;
    const send = async () => {
      if (pendingSamples === 0) return;
      await this.post(pending);
      summary.requests++;
      summary.samples += pendingSamples;
      pending = [];
      pendingSamples = 0;
    };
    while (Number.isFinite(from)) {
      const to = from + sliceMs;
      let next = Number.POSITIVE_INFINITY;
      for (let k = 0; k < series.length; k++) {
        const s = series[k]!;
        let i = cursors[k]!;
        const samples: { timestamp: number; value: number }[] = [];
        while (i < s.timestamps.length && s.timestamps[i]! < to) {
          samples.push({ timestamp: s.timestamps[i]!, value: s.values[i]! });
          i++;
        }
        cursors[k] = i;
        if (i < s.timestamps.length) next = Math.min(next, s.timestamps[i]!);
        if (samples.length === 0) continue;
        pending.push({ labels: s.labels, samples });
        pendingSamples += samples.length;
        if (pendingSamples >= max) await send();
      }
      await send();
      from = next;
    }
    return summary;
  }

  private async post(
    series: { labels: Record<string, string>; samples: { timestamp: number; value: number }[] }[],
  ): Promise<void> {
    const type = prometheusType("WriteRequest");
    const body = snappy.compress(
      type
        .encode(
          type.fromObject({
            timeseries: series.map((s) => ({
              labels: Object.keys(s.labels)
                .sort()
                .map((name) => ({ name, value: s.labels[name] })),
              samples: s.samples,
            })),
          }),
        )
        .finish(),
    ) as Uint8Array<ArrayBuffer>;
    const attempts = this.options.attempts ?? 5;
    for (let attempt = 1; ; attempt++) {
      let res: Response;
      try {
        res = await this.fetchFn(this.url, {
          method: "POST",
          headers: {
            "content-type": "application/x-protobuf",
            "content-encoding": "snappy",
            "x-prometheus-remote-write-version": "0.1.0",
            ...this.options.headers,
          },
          body,
          signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
        });
      } catch (err) {
        if (attempt >= attempts)
          throw new PrometheusError(`remote_write to ${this.url} failed: ${(err as Error).message}`);
        await sleep(backoffMs(attempt));
        continue;
      }
      if (res.ok) {
        await res.body?.cancel();
        return;
      }
      const text = (await res.text()).trim().slice(0, 300);
      if ((res.status >= 500 || res.status === 429) && attempt < attempts) {
        await sleep(backoffMs(attempt));
        continue;
      }
      throw new PrometheusError(`remote_write to ${this.url} answered ${res.status}: ${text}`, res.status);
    }
  }
}

const backoffMs = (attempt: number) => Math.min(5_000, 100 * 2 ** attempt);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
