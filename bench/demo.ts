/**
 * How long the demo shop takes to generate, per signal, and how much it emits.
 *   npm run bench:demo [-- --days 28 --seed 42 --step 300]
 * Prints wall and CPU time (CPU is the figure to compare on a shared machine) and events per signal.
 */
import { parseArgs } from "node:util";
import { createDemoShop } from "../src/demo/index.js";

const { values } = parseArgs({
  options: {
    days: { type: "string", default: "28" },
    seed: { type: "string", default: "42" },
    step: { type: "string", default: "300" },
  },
  strict: true,
});

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

function measure<T>(run: () => T): { result: T; wallMs: number; cpuMs: number } {
  const c0 = cpuMs();
  const w0 = performance.now();
  const result = run();
  return { result, wallMs: performance.now() - w0, cpuMs: cpuMs() - c0 };
}

const created = measure(() =>
  createDemoShop({ days: Number(values.days), seed: Number(values.seed), stepSeconds: Number(values.step) }),
);
const shop = created.result;
const rows: [string, number, number, number, number][] = [];
rows.push(["create (plan + truth)", 0, 0, created.wallMs, created.cpuMs]);
for (const signal of ["metrics", "traces", "logs", "rum", "all"] as const) {
  const m = measure(() => {
    let events = 0;
    let samples = 0;
    for (const ev of shop[signal]()) {
      events++;
      if (ev.kind === "metric") samples += ev.metric.samples.length;
    }
    return { events, samples };
  });
  rows.push([`${signal}()`, m.result.events, m.result.samples, m.wallMs, m.cpuMs]);
}

console.log(`demo shop: ${values.days} days, step ${values.step}s, seed ${values.seed}`);
console.log(
  `${"".padEnd(22)}${"events".padStart(10)}${"samples".padStart(11)}${"wall ms".padStart(10)}${"cpu ms".padStart(10)}`,
);
for (const [name, events, samples, wall, cpu] of rows) {
  console.log(
    `${name.padEnd(22)}${String(events).padStart(10)}${String(samples).padStart(11)}${wall.toFixed(0).padStart(10)}${cpu.toFixed(0).padStart(10)}`,
  );
}
console.log(`peak rss ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB`);
