/**
 * Time of the deterministic target analysis per SLI: ladder backtest (9 rungs with MWMB page replay),
 * target choice, confidence, top budget consumers and a what-if simulation, over 28 days at a 5-minute
 * step (8,064 points), the shape `analyze` feeds it. Reports figures; it is not a timed test.
 *
 *   npm run bench:targets             # 200 SLIs
 *   npm run bench:targets -- 1000     # more
 */
import { prepareHistory } from "../src/analysis/history.js";
import { simulate } from "../src/analysis/simulate.js";
import { proposeTarget } from "../src/analysis/targets.js";
import { synthHistory } from "../test/analysis/synthetic.js";

const runs = Number(process.argv[2] ?? 200);
const quantile = (xs: number[], q: number) => xs[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

const histories = Array.from({ length: Math.min(runs, 50) }, (_, i) =>
  synthHistory({
    days: 28,
    perStep: 200 + 50 * i,
    errorRate: 0.0001 * (1 + (i % 7)),
    seed: i + 1,
    incidents:
      i % 3 === 0 ? [{ atDay: 5 + (i % 20), hours: 1 + (i % 4), errorRate: 0.05 + 0.05 * (i % 5) }] : [],
  }),
);

const prepare: number[] = [];
const analyze: number[] = [];
const whatIf: number[] = [];
for (let i = 0; i < runs; i++) {
  const h = histories[i % histories.length]!;
  let t = performance.now();
  const p = prepareHistory(h);
  prepare.push(performance.now() - t);
  t = performance.now();
  const proposal = proposeTarget(p);
  analyze.push(performance.now() - t);
  t = performance.now();
  simulate(p, { target: proposal.choice.recommended, everyMs: 3_600_000 });
  whatIf.push(performance.now() - t);
}
const report = (name: string, xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  console.log(
    `${name.padEnd(34)} p50 ${quantile(s, 0.5).toFixed(2).padStart(7)} ms   p95 ${quantile(s, 0.95).toFixed(2).padStart(7)} ms   max ${s.at(-1)!.toFixed(2).padStart(7)} ms`,
  );
};
console.log(`${runs} SLIs, 28 days at 5m (${histories[0]!.points.length} points each)`);
report("prepare (validate + prefix sums)", prepare);
report("proposeTarget (ladder+conf+top)", analyze);
report("simulate (hourly curve)", whatIf);
const total = prepare.map((x, i) => x + analyze[i]! + whatIf[i]!);
report("total per SLI", total);
