/**
 * PromQL evaluator and dry-run throughput on synthetic counters: a 5m-rate error ratio over 28 days at a
 * 5-minute step across a few dozen series, and the Sloth-style dry-run (7 SLI windows + page/ticket
 * alerts) over 28 days at a 1-minute step. Run: `npm run bench:promql`.
 */
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { dryRunEmbedded } from "../src/generators/validate/dry-run.js";
import { MemorySource, queryRange } from "../src/promql/index.js";
import type { RawSeries } from "../src/promql/types.js";

const MIN = 60_000;
const DAY = 86_400_000;
const T0 = Date.UTC(2025, 0, 1);

function counters(services: number, days: number): RawSeries[] {
  const out: RawSeries[] = [];
  const n = (days * DAY) / MIN;
  const t = Float64Array.from({ length: n }, (_, i) => T0 + i * MIN + 15_000);
  for (let s = 0; s < services; s++) {
    for (const code of ["200", "500"]) {
      const v = new Float64Array(n);
      let total = 0;
      for (let i = 0; i < n; i++) {
        if (i % 20_000 === 7_000 + s) total = 0;
        total += code === "200" ? 600 : (i + s) % 97 === 0 ? 40 : 1;
        v[i] = total;
      }
      out.push({
        labels: { __name__: "http_requests_total", job: `svc-${s}`, code },
        timestamps: t,
        values: v,
      });
    }
  }
  return out;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Wall time and CPU time (user + system) per run; CPU time is what matters on a shared, busy machine. */
async function time(label: string, runs: number, fn: () => Promise<unknown>) {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    const startCpu = process.cpuUsage();
    await fn();
    const used = process.cpuUsage(startCpu);
    wall.push(performance.now() - start);
    cpu.push((used.user + used.system) / 1000);
  }
  process.stdout.write(
    `${label}: median wall ${median(wall).toFixed(0)} ms, median CPU ${median(cpu).toFixed(0)} ms over ${runs} runs\n`,
  );
}

const services = 24;
const source = new MemorySource(counters(services, 29));
const ratio =
  'sum by (job) (rate(http_requests_total{code=~"5.."}[5m])) / sum by (job) (rate(http_requests_total[5m]))';
await time(`5m error ratio, ${services * 2} series, 28 d at 5 m step (8,065 steps)`, 5, () =>
  queryRange(source, ratio, T0 + DAY, T0 + 29 * DAY, 5 * MIN),
);
await time(`1h error ratio, ${services * 2} series, 28 d at 1 m step (40,321 steps)`, 3, () =>
  queryRange(source, ratio.replaceAll("[5m]", "[1h]"), T0 + DAY, T0 + 29 * DAY, MIN),
);

const rules = parse(
  readFileSync(new URL("../test/fixtures/promql/sloth-checkout.rules.yml", import.meta.url), "utf8"),
);
const one = new MemorySource(
  counters(1, 29).map((s) => ({ ...s, labels: { ...s.labels, job: "checkout" } })),
);
await time("Sloth dry-run (7 SLI rules + 2 alerts), 28 d at 1 m step", 3, () =>
  dryRunEmbedded(rules, one, { startMs: T0 + DAY, endMs: T0 + 29 * DAY }),
);
