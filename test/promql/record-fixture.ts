/**
 * Records what a real Prometheus answers for `QUERIES` over `dataset()` into
 * test/fixtures/promql/prometheus-<major>.json, the reference `prometheus-fixture.test.ts` checks the
 * evaluator against. Run: `npx tsx test/promql/record-fixture.ts` (needs prometheus + promtool).
 */
import { writeFile } from "node:fs/promises";
import { PrometheusQuerier } from "../../src/history/prometheus-querier.js";
import { dataset, QUERIES } from "./dataset.js";
import { startPrometheusWith } from "./prometheus-harness.js";

const prom = await startPrometheusWith(dataset());
try {
  const client = new PrometheusQuerier(prom.url);
  const version = prom.version;
  const cases = [];
  for (const q of QUERIES) {
    const r = await client.queryRange(q.query, q.start, q.end, q.step);
    cases.push({
      ...q,
      series: r.series.map((s) => ({
        labels: s.labels,
        values: r.timestamps.map((_t, k) => (s.present[k] ? String(s.values[k]) : null)),
      })),
    });
  }
  const file = new URL(`../fixtures/promql/prometheus-${version.split(".")[0]}.json`, import.meta.url);
  await writeFile(file, `${JSON.stringify({ version, cases })}\n`);
  process.stdout.write(`recorded ${cases.length} queries from Prometheus ${version} into ${file.pathname}\n`);
} finally {
  await prom.stop();
}
