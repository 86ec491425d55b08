/**
 * remote_read against query_range on a real Prometheus (Debian's `prometheus`): 100 counter series
 * (50 services × code 200/500) of 28 days at a 1-minute scrape are written through its remote-write
 * receiver, then read back the two ways analysis can read them:
 *  - every SLI's history (good and total per service: `sum(increase(…[5m]))` at a 5-minute step), by
 *    Prometheus's query_range, and by remote_read raw samples evaluated with SLO-Scout's evaluator;
 *  - the raw samples of all 100 series, by remote_read (streamed XOR chunks and SAMPLES) and by
 *    query_range at the scrape interval (split under Prometheus's 11,000-point limit).
 * Run: `npm run bench:remote-read` (`-- --days 28 --services 50 --rounds 3`).
 */
import { cpus, loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { PrometheusHistory } from "../src/history/remote-read-source.js";
import { PrometheusReader } from "../src/pipeline/prometheus-reader.js";
import {
  PrometheusRemoteReader,
  type RemoteReadResponseType,
} from "../src/pipeline/prometheus-remote-read.js";
import { RemoteWriteClient, type WriteSeries } from "../src/pipeline/remote-write-client.js";
import { PROMETHEUS_BINARY, startPrometheus } from "../test/helpers/prometheus-instance.js";

const { values: args } = parseArgs({
  options: {
    days: { type: "string", default: "28" },
    services: { type: "string", default: "50" },
    rounds: { type: "string", default: "3" },
  },
});
const DAYS = Number(args.days);
const SERVICES = Number(args.services);
const ROUNDS = Number(args.rounds);
const MIN = 60_000;
const END = Math.floor(Date.now() / MIN) * MIN - 10 * MIN;
const START = END - DAYS * 86_400_000;

function series(): WriteSeries[] {
  const out: WriteSeries[] = [];
  const n = (END - START) / MIN + 1;
  for (let s = 0; s < SERVICES; s++) {
    for (const code of ["200", "500"]) {
      const timestamps = new Float64Array(n);
      const values = new Float64Array(n);
      let total = 0;
      for (let i = 0; i < n; i++) {
        timestamps[i] = START + i * MIN + ((s * 7919) % 15_000);
        total += code === "200" ? 600 + ((i * 31 + s) % 17) : (i + s) % 97 === 0 ? 40 : i % 3;
        values[i] = total;
      }
      out.push({
        labels: { __name__: "http_requests_total", service: `svc-${s}`, code },
        timestamps,
        values,
      });
    }
  }
  return out;
}

async function best<T>(fn: () => Promise<T>): Promise<{ ms: number; result: T }> {
  let ms = Number.POSITIVE_INFINITY;
  let result: T | undefined;
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    result = await fn();
    ms = Math.min(ms, performance.now() - t0);
  }
  return { ms, result: result as T };
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

const prom = await startPrometheus().catch((err: Error) => {
  process.stderr.write(`bench:remote-read needs ${PROMETHEUS_BINARY}: ${err.message}\n`);
  process.exit(1);
});
try {
  const data = series();
  const samples = data.reduce((a, s) => a + s.timestamps.length, 0);
  console.log(
    `Prometheus at ${prom.url}; ${data.length} series × ${DAYS} days at 1m = ${fmt(samples)} samples; ` +
      `${cpus().length} cores, load average ${loadavg()[0]!.toFixed(1)}`,
  );
  let t0 = performance.now();
  const w = await new RemoteWriteClient(`${prom.url}/api/v1/write`).writeHistory(data);
  console.log(
    `loaded through remote_write: ${fmt(w.requests)} requests in ${fmt(performance.now() - t0)} ms`,
  );

  const step = 5 * MIN;
  const queries: string[] = [];
  for (let s = 0; s < SERVICES; s++) {
    queries.push(`sum(increase(http_requests_total{service="svc-${s}",code!~"5.."}[${step + 1}ms]))`);
    queries.push(`sum(increase(http_requests_total{service="svc-${s}"}[${step + 1}ms]))`);
  }
  const slis = async (mode: "remote-read" | "query-range") => {
    // A fresh querier per round: remote_read's cache must not serve a later round.
    const h = new PrometheusHistory(prom.url, { mode });
    let points = 0;
    for (let i = 0; i < queries.length; i += 2) {
      const [good, total] = await Promise.all([
        h.queryRange(queries[i]!, START + step, END, step),
        h.queryRange(queries[i + 1]!, START + step, END, step),
      ]);
      points += good.timestamps.length + total.timestamps.length;
    }
    return points;
  };
  console.log(
    `\nSLI history: ${SERVICES} SLIs (good + total), ${DAYS} days at a 5-minute step, best of ${ROUNDS}`,
  );
  const rows: [string, number, string][] = [];
  for (const mode of ["query-range", "remote-read"] as const) {
    const r = await best(() => slis(mode));
    rows.push([
      mode === "query-range" ? "query_range (Prometheus evaluates)" : "remote_read + evaluator",
      r.ms,
      `${fmt(r.result)} points`,
    ]);
  }
  for (const [name, ms, what] of rows) console.log(`  ${name.padEnd(40)} ${fmt(ms).padStart(8)} ms  ${what}`);

  console.log(`\nRaw samples of all ${data.length} series over ${DAYS} days, best of ${ROUNDS}`);
  const raw: [string, number, string][] = [];
  for (const type of ["streamed-xor-chunks", "samples"] as RemoteReadResponseType[]) {
    const reader = new PrometheusRemoteReader(prom.url, { accept: [type] });
    t0 = performance.now();
    const r = await best(() =>
      reader.read([{ name: "__name__", op: "=", value: "http_requests_total" }], START, END),
    );
    const n = r.result.series.reduce((a, s) => a + s.timestamps.length, 0);
    raw.push([`remote_read ${type}`, r.ms, `${fmt(n)} samples`]);
  }
  const reader = new PrometheusReader(prom.url, { timeoutMs: 300_000 });
  const r = await best(() => reader.queryRange("http_requests_total", { start: START, end: END, step: 60 }));
  raw.push([
    "query_range at 1m (split requests)",
    r.ms,
    `${fmt(r.result.reduce((a, s) => a + s.samples.length, 0))} points`,
  ]);
  for (const [name, ms, what] of raw) console.log(`  ${name.padEnd(40)} ${fmt(ms).padStart(8)} ms  ${what}`);
} finally {
  await prom.remove();
}
