import {
  PrometheusRemoteReader,
  type RemoteReadOptions,
  RemoteReadUnsupportedError,
} from "../pipeline/prometheus-remote-read.js";
import type { LabelMatcher } from "../promql/ast.js";
import { Evaluator } from "../promql/evaluate.js";
import { CachingSource } from "../promql/sources.js";
import {
  matches,
  type PromqlCompat,
  type RangeQuerier,
  type RangeResult,
  type RawSeries,
  type SeriesSource,
} from "../promql/types.js";
import { PrometheusQuerier } from "./prometheus-querier.js";

/**
 * Metric history from a Prometheus over remote_read: its raw samples, one request per selector, evaluated
 * by SLO-Scout's PromQL evaluator with the semantics of the server's major version. Chosen where the server
 * serves remote_read; otherwise the queries go to its query_range (PROMETHEUS_READ=auto).
 */

export type PrometheusReadMode = "auto" | "remote-read" | "query-range";

/**
 * The evaluator's sample source over remote_read. A selection with equality matchers is read with those
 * alone and the rest (`!=`, `=~`, `!~`) applied here, so an SLI's good and total selectors of one journey
 * share one read; reads are cached per selection and time range, and two asking at once share one request.
 */
export class RemoteReadSource implements SeriesSource {
  private readonly cached: CachingSource;
  private readonly inFlight = new Map<string, Promise<RawSeries[]>>();

  constructor(reader: PrometheusRemoteReader) {
    this.cached = new CachingSource({
      select: (name, matchers, startMs, endMs) => {
        const key = JSON.stringify([name, matchers, startMs, endMs]);
        let p = this.inFlight.get(key);
        if (!p) {
          p = reader
            .read([{ name: "__name__", op: "=", value: name }, ...matchers], startMs, endMs)
            .then((r) => r.series)
            .finally(() => this.inFlight.delete(key));
          this.inFlight.set(key, p);
        }
        return p;
      },
    });
  }

  async select(name: string, matchers: LabelMatcher[], startMs: number, endMs: number): Promise<RawSeries[]> {
    const own = matchers.filter((m) => m.name !== "__name__");
    const equal = own.filter((m) => m.op === "=");
    if (equal.length === 0) return this.cached.select(name, own, startMs, endMs);
    const rest = own.filter((m) => m.op !== "=");
    const series = await this.cached.select(name, equal, startMs, endMs);
    return rest.length ? series.filter((s) => rest.every((m) => matches(s.labels, m))) : series;
  }
}

export interface PrometheusHistoryOptions extends RemoteReadOptions {
  mode?: PrometheusReadMode;
}

/**
 * A querier over the Prometheus at `url`. In `auto` mode the first query finds out how to read: a small
 * remote_read probe; a server without remote_read (404/405/501, or something else answering) is read
 * with query_range from then on. Network failures are errors, not a reason to switch.
 */
export class PrometheusHistory implements RangeQuerier {
  private chosen: Promise<RangeQuerier> | undefined;
  /** How the queries are read, once the first has been. */
  via: "remote-read" | "query-range" | undefined;

  constructor(
    private readonly url: string,
    private readonly options: PrometheusHistoryOptions = {},
  ) {}

  async queryRange(query: string, startMs: number, endMs: number, stepMs: number): Promise<RangeResult> {
    this.chosen ??= this.choose();
    return (await this.chosen).queryRange(query, startMs, endMs, stepMs);
  }

  private async choose(): Promise<RangeQuerier> {
    const mode = this.options.mode ?? "auto";
    const queryRange = () => {
      this.via = "query-range";
      const { timeoutMs, headers, fetch } = this.options;
      return new PrometheusQuerier(this.url, {
        ...(timeoutMs ? { timeoutMs } : {}),
        ...(headers ? { headers } : {}),
        ...(fetch ? { fetch } : {}),
      });
    };
    if (mode === "query-range") return queryRange();
    const reader = new PrometheusRemoteReader(this.url, this.options);
    try {
      // An empty selection is the cheapest question that proves the endpoint answers remote_read.
      const now = Date.now();
      await reader.read([{ name: "__name__", op: "=", value: "slo_scout_remote_read_probe" }], now - 1, now);
    } catch (err) {
      if (mode === "auto" && err instanceof RemoteReadUnsupportedError) return queryRange();
      throw err;
    }
    this.via = "remote-read";
    return new Evaluator(new RemoteReadSource(reader), {
      compat: await this.compat(),
    });
  }

  /** 2.x and 3.x differ in range and lookback boundaries; the evaluator follows the server's version. */
  private async compat(): Promise<PromqlCompat> {
    const fetchFn = this.options.fetch ?? fetch;
    try {
      const res = await fetchFn(`${this.url.replace(/\/+$/, "")}/api/v1/status/buildinfo`, {
        headers: { accept: "application/json", ...this.options.headers },
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
      });
      const body = (await res.json()) as { data?: { version?: string } };
      const major = Number(/^v?(\d+)\./.exec(body.data?.version ?? "")?.[1]);
      return major > 0 && major < 3 ? "v2" : "v3";
    } catch {
      // Servers that speak remote_read but not the status API (Thanos, Cortex) follow today's semantics.
      return "v3";
    }
  }
}
