import { RemoteWriteClient, type WriteSeries } from "../../src/pipeline/remote-write-client.js";
import { logLine } from "./messages.js";
import type { Done, GeneratorArgs, Tally } from "./tally.js";
import { Pacer, sleep } from "./tally.js";

/**
 * The soak's HTTP senders that are not OpenTelemetry SDKs: Fluent Bit's `http` output (`json_lines`),
 * Prometheus remote_write through SLO-Scout's own remote_write client (the one `export-derived` uses),
 * and the Grafana Faro Web SDK's transport body. Each runs `concurrency` senders, which take what the
 * pacer owes in batches of their kind and post it, retrying as the real sender does.
 */

export const FLUENTBIT_SERVICE = "soak-fluentbit";
export const METRICS_SERVICE = "soak-metrics";
export const FARO_APP = "soak-web";

/** Records per request: Fluent Bit flushes a chunk a second; Prometheus sends up to 2,000 samples. */
const FLUENTBIT_BATCH = 1000;
const SERIES_PER_REQUEST = 200;
const SAMPLES_PER_SERIES = 10;
const SERIES_PER_SENDER = 2000;

/** Runs `senders` loops, each taking a batch from the pacer when one is due (or a smaller one after 1 s). */
async function run(
  args: GeneratorArgs,
  tally: Tally,
  stopping: () => boolean,
  batch: number,
  send: (sender: number, n: number) => Promise<void>,
): Promise<void> {
  const pacer = new Pacer(args.rate);
  await Promise.all(
    Array.from({ length: args.concurrency }, async (_, sender) => {
      let since = performance.now();
      while (!stopping()) {
        const owed = Math.min(pacer.owed(), batch);
        if (owed === 0 || (owed < batch && performance.now() - since < 1000)) {
          await sleep(5);
          continue;
        }
        pacer.take(owed);
        tally.offered += owed;
        since = performance.now();
        await send(sender, owed);
      }
    }),
  );
}

/** Long enough that a busy server's answer is not mistaken for a lost request (which a retry would duplicate). */
const TIMEOUT_MS = 60_000;

const errorName = (err: unknown) => {
  const e = err as Error & { cause?: { code?: string } };
  return e.cause?.code ?? e.name;
};

/** Posts until a 2xx, at most `attempts` times, waiting `backoffMs` between; returns the answer or undefined. */
async function post(
  tally: Tally,
  url: string,
  init: RequestInit,
  attempts: number,
  backoffMs: (attempt: number) => number,
): Promise<{ res: Response; ms: number } | undefined> {
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const t0 = performance.now();
    try {
      const res = await fetch(url, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS) });
      if (res.ok) return { res, ms: performance.now() - t0 };
      await res.arrayBuffer();
      tally.refuse(res.status);
      if (res.status < 500 && res.status !== 429) return undefined;
    } catch (err) {
      tally.refuse(errorName(err));
    }
    if (attempt < attempts) await sleep(backoffMs(attempt));
  }
  return undefined;
}

export async function fluentbit(args: GeneratorArgs, tally: Tally, stopping: () => boolean): Promise<Done> {
  let n = args.index * 1_000_000_000;
  let rejected = 0;
  await run(args, tally, stopping, FLUENTBIT_BATCH, async (sender, count) => {
    const lines: string[] = [];
    for (let i = 0; i < count; i++) {
      const line = logLine(n++);
      lines.push(
        JSON.stringify({
          date: Date.now() / 1000,
          log: `${new Date().toISOString()} ${line.severity} ${line.text}`,
          stream: line.severity === "ERROR" ? "stderr" : "stdout",
          kubernetes: {
            labels: { app: FLUENTBIT_SERVICE },
            namespace_name: "shop",
            pod_name: `${FLUENTBIT_SERVICE}-7d9f8b6c4-${args.index}${sender}`,
          },
        }),
      );
    }
    // Fluent Bit's http output: one chunk per request, retried by its scheduler (base 1 s, growing).
    const answer = await post(
      tally,
      `${args.url}/ingest/fluentbit`,
      { method: "POST", headers: { "content-type": "application/x-ndjson" }, body: `${lines.join("\n")}\n` },
      6,
      (attempt) => 1000 * attempt,
    );
    if (!answer) {
      tally.failed += count;
      return;
    }
    const body = (await answer.res.json()) as { accepted: number; rejected: number };
    tally.ack(body.accepted, answer.ms);
    rejected += body.rejected;
  });
  return {
    type: "done",
    receiver: args.receiver,
    offered: tally.offered,
    expected: { [`logLines:${FLUENTBIT_SERVICE}`]: tally.ackedTotal },
    notes: rejected > 0 ? [`${rejected} records answered as rejected`] : [],
  };
}

export async function remoteWrite(args: GeneratorArgs, tally: Tally, stopping: () => boolean): Promise<Done> {
  /** A sender's fetch: each attempt's latency when 2xx, its refusal otherwise (the client retries 5xx itself). */
  const timedFetch =
    (timing: { lastMs: number }): typeof fetch =>
    async (input, init) => {
      const t0 = performance.now();
      try {
        const res = await fetch(input, init);
        if (res.ok) timing.lastMs = performance.now() - t0;
        else tally.refuse(res.status);
        return res;
      } catch (err) {
        tally.refuse(errorName(err));
        throw err;
      }
    };
  /** Per sender: its series' labels, last timestamp and counter value; the next group to send. */
  const senders = Array.from({ length: args.concurrency }, (_, sender) => {
    const timing = { lastMs: 0 };
    return {
      timing,
      client: new RemoteWriteClient(`${args.url}/api/v1/write`, {
        fetch: timedFetch(timing),
        timeoutMs: TIMEOUT_MS,
      }),
      series: Array.from({ length: SERIES_PER_SENDER }, (_, k) => ({
        labels: {
          __name__: k % 2 === 0 ? "http_requests_total" : "http_request_duration_seconds_bucket",
          service: METRICS_SERVICE,
          instance: `pod-${args.index}-${sender}-${Math.floor(k / 100)}`,
          route: `/api/r${k % 50}`,
          ...(k % 2 === 0 ? { code: String(200 + (k % 3) * 100) } : { le: String(0.05 * (1 + (k % 7))) }),
        },
        last: 0,
        value: 0,
      })),
      next: 0,
    };
  });
  await run(args, tally, stopping, SERIES_PER_REQUEST * SAMPLES_PER_SERIES, async (sender, count) => {
    const s = senders[sender]!;
    const out: WriteSeries[] = [];
    const now = Date.now();
    let left = count;
    while (left > 0) {
      const series = s.series[s.next]!;
      s.next = (s.next + 1) % s.series.length;
      const k = Math.min(SAMPLES_PER_SERIES, left);
      const timestamps: number[] = [];
      const values: number[] = [];
      // Distinct, ascending timestamps per series: the store keeps one sample per (series, time).
      let t = Math.max(series.last + 1, now - 10_000);
      for (let i = 0; i < k; i++) {
        timestamps.push(t++);
        series.value += 1 + (i % 3);
        values.push(series.value);
      }
      series.last = t - 1;
      out.push({ labels: series.labels, timestamps, values });
      left -= k;
    }
    try {
      const summary = await s.client.writeHistory(out);
      tally.ack(summary.samples, s.timing.lastMs);
    } catch {
      tally.failed += count;
    }
  });
  return {
    type: "done",
    receiver: args.receiver,
    offered: tally.offered,
    expected: { samples: tally.ackedTotal },
    notes: [`${args.concurrency * SERIES_PER_SENDER} series`],
  };
}

/** One page view's Faro transport body: a web-vitals measurement and two logs, or a log and an exception. */
/** The n-th Faro transport body of the soak (also what bench:worker decodes), stamped `ts`. */
export function faroPayload(
  n: number,
  sessions: number,
  ts = new Date().toISOString(),
): { body: string; measurements: number; logs: number } {
  const exception = n % 20 === 0;
  const payload = {
    meta: {
      sdk: { name: "@grafana/faro-web-sdk", version: "1.12.2" },
      app: { name: FARO_APP, version: "1.4.2", environment: "production" },
      session: { id: `s-${n % sessions}` },
      page: { url: `https://shop.example/checkout/${1000 + (n % 5000)}?step=${n % 3}` },
      browser: { name: "chrome", version: "126.0.0.0", os: "Linux", mobile: n % 3 === 0 },
      view: { name: "default" },
    },
    measurements: [
      {
        type: "web-vitals",
        values: {
          lcp: 800 + (n % 3000),
          fcp: 400 + (n % 2000),
          ttfb: 50 + (n % 900),
          cls: (n % 30) / 100,
          inp: 20 + (n % 400),
        },
        timestamp: ts,
      },
    ],
    logs: [
      { message: `checkout step ${n % 3} rendered in ${n % 700}ms`, level: "info", timestamp: ts },
      ...(exception ? [] : [{ message: `cart updated items=${(n % 9) + 1}`, level: "info", timestamp: ts }]),
    ],
    exceptions: exception
      ? [
          {
            type: "TypeError",
            value: "Cannot read properties of undefined (reading 'total')",
            timestamp: ts,
            stacktrace: {
              frames: [
                { filename: "https://shop.example/assets/app.js", function: "renderTotal", lineno: 120 },
              ],
            },
          },
        ]
      : [],
  };
  return { body: JSON.stringify(payload), measurements: 1, logs: 2 };
}

/** Items in a Faro payload: one measurement (five web vitals) and two logs, or a log and an exception. */
const FARO_ITEMS_PER_PAYLOAD = 3;

export async function faro(args: GeneratorArgs, tally: Tally, stopping: () => boolean): Promise<Done> {
  let n = args.index * 1_000_000;
  let vitals = 0;
  let rumLogs = 0;
  await run(args, tally, stopping, FARO_ITEMS_PER_PAYLOAD, async () => {
    const p = faroPayload(n++, 5000);
    // Faro's fetch transport does not retry a failed send.
    const answer = await post(
      tally,
      `${args.url}/ingest/rum`,
      { method: "POST", headers: { "content-type": "application/json" }, body: p.body },
      1,
      () => 0,
    );
    const items = p.measurements + p.logs;
    if (!answer) {
      tally.failed += items;
      return;
    }
    await answer.res.arrayBuffer();
    tally.ack(items, answer.ms);
    vitals += 5 * p.measurements;
    rumLogs += p.logs;
  });
  return {
    type: "done",
    receiver: args.receiver,
    offered: tally.offered,
    expected: { webVitals: vitals, [`logLines:${FARO_APP}`]: rumLogs },
    notes: [],
  };
}
