/**
 * Reads metric history from a Prometheus-compatible HTTP API (`/api/v1/query_range`, `/api/v1/series`,
 * `/api/v1/labels`), where a Prometheus exists and history is read rather than copied. A range query
 * picks a step that keeps every request under Prometheus's 11,000-points-per-series limit; an explicit
 * step too fine for the range is served by splitting the range into several requests.
 */

/** Prometheus refuses a query_range whose (end − start) / step exceeds this. */
export const PROMETHEUS_MAX_POINTS = 11_000;

/** Steps a chosen step is rounded up to, so series line up on familiar boundaries (15 s … 1 d). */
const NICE_STEPS_S = [1, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];

export class PrometheusError extends Error {
  override name = "PrometheusError";
  constructor(
    message: string,
    /** HTTP status when Prometheus answered, undefined for timeouts and network failures. */
    readonly status?: number,
    /** Prometheus's errorType (bad_data, execution, timeout, …). */
    readonly errorType?: string,
  ) {
    super(message);
  }
}

export interface Sample {
  /** Epoch milliseconds. */
  time: number;
  value: number;
}

export interface RangeSeries {
  metric: Record<string, string>;
  samples: Sample[];
}

export interface PrometheusReaderOptions {
  /** Per request; Prometheus is also told this as its own query `timeout`. */
  timeoutMs?: number;
  headers?: Record<string, string>;
  /** Points per series per request; below Prometheus's hard 11,000. */
  maxPoints?: number;
  fetch?: typeof fetch;
}

export interface RangeOptions {
  /** Epoch ms or Date. */
  start: number | Date;
  end: number | Date;
  /** Seconds; chosen from the range when absent. */
  step?: number;
  /** Smallest step `chooseStep` may pick, seconds (default 15, a common scrape interval). */
  minStep?: number;
}

/**
 * The step (seconds) for a range: the smallest "nice" step ≥ `minStep` whose point count
 * (range / step) stays within `maxPoints`. 28 days → 300 s (8,064 points).
 */
export function chooseStep(
  startMs: number,
  endMs: number,
  minStep = 15,
  maxPoints = PROMETHEUS_MAX_POINTS - 1,
): number {
  const rangeS = Math.max(0, (endMs - startMs) / 1000);
  const needed = Math.max(minStep, rangeS / maxPoints);
  return NICE_STEPS_S.find((s) => s >= needed) ?? Math.ceil(needed);
}

const toMs = (t: number | Date) => (t instanceof Date ? t.getTime() : t);

function parseValue(v: string): number {
  if (v === "+Inf" || v === "Inf") return Number.POSITIVE_INFINITY;
  if (v === "-Inf") return Number.NEGATIVE_INFINITY;
  return Number(v);
}

const seriesKey = (m: Record<string, string>) =>
  JSON.stringify(
    Object.keys(m)
      .sort()
      .map((k) => [k, m[k]]),
  );

/**
 * `raw` as an http(s) URL without trailing slashes, or a PrometheusError naming `what` it was for and an
 * example; every client of a Prometheus endpoint checks its URL this way before the first request.
 */
export function prometheusHttpUrl(raw: string, what: string, example: string): string {
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
    throw new PrometheusError(`${what} ${JSON.stringify(raw)} is not an http(s) URL (e.g. ${example})`);
  }
  return url.toString().replace(/\/+$/, "");
}

export class PrometheusReader {
  private readonly base: string;
  private readonly timeoutMs: number;
  private readonly maxPoints: number;
  private readonly fetchFn: typeof fetch;

  constructor(
    baseUrl: string,
    private readonly options: PrometheusReaderOptions = {},
  ) {
    this.base = prometheusHttpUrl(baseUrl, "Prometheus URL", "http://localhost:9090");
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.maxPoints = Math.min(options.maxPoints ?? PROMETHEUS_MAX_POINTS - 1, PROMETHEUS_MAX_POINTS - 1);
    this.fetchFn = options.fetch ?? fetch;
  }

  /**
   * `query_range` over [start, end]. Each request covers at most `maxPoints` steps; a longer range with
   * an explicit step is split and the pieces are joined per series.
   */
  async queryRange(query: string, range: RangeOptions): Promise<RangeSeries[]> {
    const startMs = toMs(range.start);
    const endMs = toMs(range.end);
    if (!Number.isFinite(startMs) || !Number.isFinite(endMs) || endMs < startMs) {
      throw new PrometheusError(`query_range needs start <= end (got ${startMs}..${endMs})`);
    }
    const step = range.step ?? chooseStep(startMs, endMs, range.minStep, this.maxPoints);
    if (!(step > 0)) throw new PrometheusError(`query_range step must be positive (got ${step})`);
    const stepMs = step * 1000;
    const chunkMs = stepMs * this.maxPoints;
    const bySeries = new Map<string, RangeSeries>();
    for (let from = startMs; from <= endMs; from += chunkMs + stepMs) {
      const to = Math.min(endMs, from + chunkMs);
      const data = await this.call<{
        resultType: string;
        result: { metric: Record<string, string>; values?: [number, string][] }[];
      }>("/api/v1/query_range", {
        query,
        start: String(from / 1000),
        end: String(to / 1000),
        step: String(step),
      });
      if (data.resultType !== "matrix") {
        throw new PrometheusError(`query_range returned ${data.resultType}, expected matrix`);
      }
      for (const s of data.result) {
        const key = seriesKey(s.metric);
        let out = bySeries.get(key);
        if (!out) {
          out = { metric: s.metric, samples: [] };
          bySeries.set(key, out);
        }
        for (const [sec, v] of s.values ?? [])
          out.samples.push({ time: Math.round(sec * 1000), value: parseValue(v) });
      }
    }
    return [...bySeries.values()];
  }

  /** Label sets of the series matching any of `matchers` (e.g. `up{job="api"}`). */
  async series(
    matchers: string[],
    range: Partial<Pick<RangeOptions, "start" | "end">> = {},
  ): Promise<Record<string, string>[]> {
    if (matchers.length === 0)
      throw new PrometheusError('series needs at least one matcher (e.g. {job="api"})');
    return this.call<Record<string, string>[]>("/api/v1/series", {
      "match[]": matchers,
      ...this.window(range),
    });
  }

  /** Label names, optionally only those on series matching `matchers`. */
  async labels(
    matchers: string[] = [],
    range: Partial<Pick<RangeOptions, "start" | "end">> = {},
  ): Promise<string[]> {
    return this.call<string[]>("/api/v1/labels", {
      ...(matchers.length ? { "match[]": matchers } : {}),
      ...this.window(range),
    });
  }

  private window(range: Partial<Pick<RangeOptions, "start" | "end">>): Record<string, string> {
    const out: Record<string, string> = {};
    if (range.start !== undefined) out.start = String(toMs(range.start) / 1000);
    if (range.end !== undefined) out.end = String(toMs(range.end) / 1000);
    return out;
  }

  private async call<T>(path: string, params: Record<string, string | string[]>): Promise<T> {
    const body = new URLSearchParams();
    for (const [k, v] of Object.entries(params))
      for (const one of Array.isArray(v) ? v : [v]) body.append(k, one);
    // Prometheus stops the query itself a little before we give up on the answer.
    body.set("timeout", `${Math.max(1, Math.floor((this.timeoutMs * 0.9) / 1000))}s`);
    const url = `${this.base}${path}`;
    let res: Response;
    try {
      res = await this.fetchFn(url, {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          accept: "application/json",
          ...this.options.headers,
        },
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      const e = err as Error;
      if (e.name === "TimeoutError" || e.name === "AbortError") {
        throw new PrometheusError(
          `Prometheus ${path} did not answer within ${this.timeoutMs} ms (${this.base})`,
        );
      }
      throw new PrometheusError(`Prometheus at ${this.base} is unreachable: ${e.message}${causeOf(e)}`);
    }
    const text = await res.text();
    let json: { status?: string; data?: unknown; error?: string; errorType?: string; warnings?: string[] };
    try {
      json = JSON.parse(text);
    } catch {
      throw new PrometheusError(
        `Prometheus ${path} answered ${res.status} with a non-JSON body: ${text.slice(0, 200)}`,
        res.status,
      );
    }
    if (json.status !== "success") {
      throw new PrometheusError(
        `Prometheus ${path} failed with ${res.status}${json.errorType ? ` ${json.errorType}` : ""}: ${json.error ?? text.slice(0, 200)}`,
        res.status,
        json.errorType,
      );
    }
    return json.data as T;
  }
}

function causeOf(err: Error): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause ? ` (${cause.code ?? cause.message ?? ""})` : "";
}
