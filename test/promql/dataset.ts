import { seededRandom } from "../../src/core/random.js";
import type { RawSeries } from "../../src/promql/types.js";

/**
 * A deterministic three-hour dataset that exercises the corners of PromQL evaluation: jittered scrapes,
 * counter resets, a series that starts late and one with a gap, a gauge going negative, classic histogram
 * buckets and an info metric for group_left joins. The queries in `QUERIES` were run against a real
 * Prometheus on this data to record `test/fixtures/promql/prometheus-*.json`.
 */

export const START = Date.UTC(2025, 0, 1);
export const HOURS = 3;

interface CounterSpec {
  labels: Record<string, string>;
  perScrape: () => number;
  intervalMs: number;
  from?: number;
  resetsAt?: number[];
  gaps?: [number, number][];
}

function counter(spec: CounterSpec, rand: () => number): RawSeries {
  const t: number[] = [];
  const v: number[] = [];
  let total = 0;
  const resets = [...(spec.resetsAt ?? [])];
  const end = START + HOURS * 3_600_000;
  for (let ts = START + (spec.from ?? 0); ts < end; ts += spec.intervalMs) {
    const at = ts + Math.round((rand() - 0.5) * 4000);
    if (resets.length && at >= resets[0]!) {
      resets.shift();
      total = 0;
    }
    total += spec.perScrape();
    if ((spec.gaps ?? []).some(([a, b]) => at >= a && at < b)) continue;
    t.push(at);
    v.push(total);
  }
  return { labels: spec.labels, timestamps: t, values: v };
}

export function dataset(): RawSeries[] {
  const rand = seededRandom(42);
  const min = 60_000;
  const series: RawSeries[] = [];
  const req = (instance: string, code: string, perScrape: () => number, extra: Partial<CounterSpec> = {}) =>
    series.push(
      counter(
        {
          labels: { __name__: "req_total", job: "api", instance, code },
          perScrape,
          intervalMs: 15_000,
          ...extra,
        },
        rand,
      ),
    );
  req("a", "200", () => 100 + Math.floor(rand() * 20), { resetsAt: [START + 70 * min] });
  req("a", "500", () => (rand() < 0.2 ? 3 : 0), { resetsAt: [START + 70 * min] });
  req("b", "200", () => 50 + Math.floor(rand() * 10), {
    from: 40 * min,
    gaps: [[START + 100 * min, START + 112 * min]],
  });
  req("b", "500", () => (rand() < 0.5 ? 2 : 0), { from: 40 * min });
  series.push(
    counter(
      {
        labels: { __name__: "req_total", job: "web", instance: "c", code: "503" },
        perScrape: () => 1,
        intervalMs: 30_000,
      },
      rand,
    ),
  );
  // A gauge crossing zero.
  const gt: number[] = [];
  const gv: number[] = [];
  for (let ts = START; ts < START + HOURS * 3_600_000; ts += 20_000) {
    gt.push(ts);
    gv.push(Math.round(Math.sin((ts - START) / 900_000) * 1000) / 100);
  }
  series.push({ labels: { __name__: "temp", instance: "a" }, timestamps: gt, values: gv });
  // Classic histogram: cumulative bucket counters per instance.
  const bounds = ["0.1", "0.25", "0.5", "1", "+Inf"];
  for (const instance of ["a", "b"]) {
    const counts = bounds.map(() => 0);
    const cols = bounds.map(() => ({ t: [] as number[], v: [] as number[] }));
    for (let ts = START; ts < START + HOURS * 3_600_000; ts += 15_000) {
      for (let i = 0; i < 20; i++) {
        const x = rand() ** (instance === "a" ? 2 : 1) * 1.2;
        bounds.forEach((b, j) => {
          if (b === "+Inf" || x <= Number(b)) counts[j]!++;
        });
      }
      cols.forEach((c, j) => {
        c.t.push(ts);
        c.v.push(counts[j]!);
      });
    }
    for (const [j, le] of bounds.entries()) {
      series.push({
        labels: { __name__: "lat_seconds_bucket", instance, le },
        timestamps: cols[j]!.t,
        values: cols[j]!.v,
      });
    }
  }
  // Info metric for joins, and up.
  const it: number[] = [];
  for (let ts = START; ts < START + HOURS * 3_600_000; ts += 60_000) it.push(ts);
  const ones = it.map(() => 1);
  series.push({ labels: { __name__: "svc_info", instance: "a", team: "pay" }, timestamps: it, values: ones });
  series.push({
    labels: { __name__: "svc_info", instance: "b", team: "cart" },
    timestamps: it,
    values: ones,
  });
  series.push({
    labels: { __name__: "up", job: "api", instance: "a" },
    timestamps: it,
    values: it.map((t) => (t > START + 150 * 60_000 && t < START + 160 * 60_000 ? 0 : 1)),
  });
  return series;
}

export interface RecordedQuery {
  query: string;
  start: number;
  end: number;
  step: number;
}

const from = START + 30 * 60_000;
const to = START + HOURS * 3_600_000 - 60_000;
const q = (query: string, step = 120_000): RecordedQuery => ({ query, start: from, end: to, step });

export const QUERIES: RecordedQuery[] = [
  q("req_total"),
  q('req_total{code!="200"}'),
  q('req_total{code=~"5.."}'),
  q('req_total{code!~"2..|503"}'),
  q('req_total{instance=~"a|b", job="api"}'),
  q("rate(req_total[1m])"),
  q("rate(req_total[5m])"),
  q("rate(req_total[17m])", 47_000),
  q("increase(req_total[5m])"),
  q("increase(req_total[1h])", 300_000),
  q("irate(req_total[2m])"),
  q("delta(temp[10m])"),
  q("rate(req_total[5m] offset 10m)"),
  q('sum(rate(req_total{code=~"5.."}[5m])) / sum(rate(req_total[5m]))'),
  q("sum by (code) (rate(req_total[5m]))"),
  q("sum without (instance) (rate(req_total[5m]))"),
  q("avg by (job) (rate(req_total[5m]))"),
  q("max by (job) (rate(req_total[5m]))"),
  q("min without (code) (rate(req_total[5m]))"),
  q("count by (job) (req_total)"),
  q("group by (instance) (req_total)"),
  q('rate(req_total{code="500"}[5m]) / ignoring(code) rate(req_total{code="200"}[5m])'),
  q('rate(req_total{code="500"}[5m]) / on(instance) rate(req_total{code="200"}[5m])'),
  q("rate(req_total[5m]) * on(instance) group_left(team) svc_info"),
  q("sum by (instance) (rate(req_total[5m])) > 5"),
  q("sum by (instance) (rate(req_total[5m])) > bool 5"),
  q("rate(req_total[5m]) > 1 < 6"),
  q("2 * rate(req_total[5m]) - 1"),
  q("1 - rate(req_total[5m]) / 10"),
  q("-temp"),
  q("temp ^ 2 % 7"),
  q("0.5 < temp"),
  q('req_total{code="500"} and on(instance) up == 1'),
  q('req_total{code="500"} unless on(instance) up == 0'),
  q('rate(req_total{code="503"}[5m]) or rate(req_total{code="500"}[5m])'),
  q('(sum(rate(req_total{code="418"}[5m])) or on() vector(0)) / sum(rate(req_total[5m]))'),
  q("vector(3) + scalar(sum(up))"),
  q("scalar(req_total)"),
  q("clamp_min(temp, 0)"),
  q("clamp_max(temp, 2.5)"),
  q('absent(req_total{job="nope"})'),
  q('absent(req_total{job="api"})'),
  q("histogram_quantile(0.5, sum by (le) (rate(lat_seconds_bucket[5m])))"),
  q("histogram_quantile(0.99, sum by (le, instance) (rate(lat_seconds_bucket[5m])))"),
  q("histogram_quantile(0.9, rate(lat_seconds_bucket[10m]))"),
  q("sum_over_time(temp[10m])"),
  q("avg_over_time(temp[10m])"),
  q("count_over_time(req_total[5m])"),
  q("max_over_time(temp[7m])"),
  q("min_over_time(temp[7m])"),
  q("last_over_time(req_total[5m])"),
  q("max_over_time(rate(req_total[5m])[30m:1m])"),
  q('sum_over_time((count(req_total{code="500"} > 100))[10m:])'),
  q("avg_over_time(sum(rate(req_total[5m]))[20m:2m] offset 3m)"),
  q('label_replace(rate(req_total[5m]), "host", "h-$1", "instance", "(.*)")'),
  q("time() - 1735689600"),
  q("quantile_over_time(0.9, temp[10m])"),
  q("quantile_over_time(0.25, rate(req_total[1m])[15m:1m])"),
  q("stddev_over_time(temp[10m])"),
  q("stdvar_over_time(req_total[3m])"),
  q('absent_over_time(req_total{job="api", instance="b"}[5m])'),
  q('absent_over_time(req_total{job="none"}[5m])'),
  q("round(temp)"),
  q("round(temp, 0.25)"),
  q("sgn(temp)"),
  q("abs(temp) + ceil(temp) - floor(temp)"),
  q(
    'sum by (code) (increase(req_total{job="api"}[10m])) / ignoring(code) group_left sum(increase(req_total{job="api"}[10m]))',
  ),
];
