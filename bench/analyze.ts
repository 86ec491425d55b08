/**
 * Time of `analyzeService` (no LLM): journey discovery, SLI candidates, history read through the SLI
 * PromQL (28 days at a 5-minute step), latency threshold, targets, confidence and evidence, for N
 * synthetic services with two journeys each. Span aggregates and capsules live in an in-memory PGlite;
 * metric samples in an in-memory series source answered by SLO-Scout's PromQL evaluator (the path a
 * Prometheus takes with PROMETHEUS_URL). Reports figures; it is not a timed test.
 *
 *   npm run bench:analyze            # 50 services
 *   npm run bench:analyze -- 10      # fewer
 */
import { analyzeService } from "../src/analysis/analyze.js";
import type { MetricCatalog } from "../src/analysis/history-source.js";
import type { RouteStats } from "../src/core/aggregates.js";
import { Evaluator, MemorySource } from "../src/promql/index.js";
import { migrate } from "../src/store/migrate.js";
import { upsertRouteStats } from "../src/store/repos/aggregates.js";
import { upsertCapsules } from "../src/store/repos/capsules.js";
import { touchService } from "../src/store/repos/services.js";
import { openPglite } from "../src/store/sql/pglite.js";

const services = Number(process.argv[2] ?? 50);
const DAYS = 28;
const STEP = 300_000;
const HOUR = 3_600_000;
const END = Date.UTC(2026, 10, 20);
const START = END - DAYS * 86_400_000;
const STEPS = (END - START) / STEP;
const LES = [0.05, 0.1, 0.25, 0.5, 1];
const quantile = (xs: number[], q: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const t0 = performance.now();
const sql = await openPglite("pglite://memory");
await migrate(sql);
const source = new MemorySource();
const catalog: { name: string; labels: Record<string, string> }[] = [];
const ts = Float64Array.from({ length: STEPS + 1 }, (_, i) => START + i * STEP);

for (let s = 0; s < services; s++) {
  const service = `svc-${String(s).padStart(2, "0")}`;
  const r = rng(s + 1);
  const routes: RouteStats[] = [];
  for (const [j, route] of ["/orders", "/orders/{id}"].entries()) {
    const base = { service, route, method: j === 0 ? "POST" : "GET" };
    const incident = Math.floor(r() * (STEPS - 48));
    const statuses = {
      "200": new Float64Array(STEPS + 1),
      "404": new Float64Array(STEPS + 1),
      "500": new Float64Array(STEPS + 1),
    };
    const buckets = [...LES, Infinity].map(() => new Float64Array(STEPS + 1));
    for (let i = 1; i <= STEPS; i++) {
      const n = 50 + Math.floor(r() * 100);
      const bad = i >= incident && i < incident + 24 ? Math.floor(n * 0.2) : r() < 0.05 ? 1 : 0;
      const c4 = Math.floor(n * 0.05);
      statuses["200"][i] = statuses["200"][i - 1]! + n - bad - c4;
      statuses["404"][i] = statuses["404"][i - 1]! + c4;
      statuses["500"][i] = statuses["500"][i - 1]! + bad;
      let cum = 0;
      [0.3, 0.4, 0.2, 0.06, 0.03, 0.01].forEach((share, b) => {
        cum += share;
        buckets[b]![i] = buckets[b]![i - 1]! + Math.round(n * Math.min(1, cum));
      });
    }
    for (const [status, values] of Object.entries(statuses)) {
      const labels = { __name__: "http_server_requests_total", ...base, status };
      source.add(labels, ts, values);
      catalog.push({ name: labels.__name__, labels: { ...base, status } });
    }
    buckets.forEach((values, b) => {
      const le = b < LES.length ? String(LES[b]) : "+Inf";
      source.add({ __name__: "http_server_request_duration_seconds_bucket", ...base, le }, ts, values);
      catalog.push({ name: "http_server_request_duration_seconds_bucket", labels: { ...base, le } });
    });
    for (let h = START; h < END; h += HOUR) {
      routes.push({
        journeyKey: `${service} ${base.method} ${route}`,
        service,
        method: base.method,
        route,
        operation: `${base.method} ${route}`,
        windowStart: h,
        requests: 60,
        errors: 0,
        clientErrors: 3,
        fromBrowser: 0,
        latency: { boundsMs: [50, 100, 250], counts: [20, 30, 9, 1], sumMs: 5000 },
      });
    }
  }
  await upsertRouteStats(sql, routes);
  await upsertCapsules(sql, [
    {
      fingerprint: `${s}`.padStart(64, "0"),
      template: "upstream timed out after <*> ms",
      service,
      windowStart: START + 10 * 86_400_000,
      count: 50,
      severityCounts: { trace: 0, debug: 0, info: 0, warn: 0, error: 50, fatal: 0 },
      firstSeen: START,
      lastSeen: START,
      samples: [],
    },
  ]);
  await touchService(sql, service, END, ["metric", "span"]);
}
const setupMs = performance.now() - t0;

const deps = {
  sql,
  querier: new Evaluator(source),
  catalog: { requestSeries: async () => catalog } satisfies MetricCatalog,
};
const perService: number[] = [];
const cpuPerService: number[] = [];
const perJourney: number[] = [];
let proposals = 0;
const all = performance.now();
for (let s = 0; s < services; s++) {
  const service = `svc-${String(s).padStart(2, "0")}`;
  const t = performance.now();
  const cpu = process.cpuUsage();
  const r = await analyzeService(service, deps, { end: END });
  const ms = performance.now() - t;
  const used = process.cpuUsage(cpu);
  cpuPerService.push((used.user + used.system) / 1000);
  perService.push(ms);
  const journeys = new Set(r.proposals.map((p) => p.journey)).size;
  for (let j = 0; j < journeys; j++) perJourney.push(ms / journeys);
  proposals += r.proposals.length;
}
const totalMs = performance.now() - all;
await sql.close();

const fmt = (x: number) => `${x.toFixed(0).padStart(6)} ms`;
console.log(
  `${services} services × 2 journeys, ${DAYS} days at 5m (${STEPS} steps), ${proposals} proposals; setup ${(setupMs / 1000).toFixed(1)} s`,
);
console.log(`per journey   p50 ${fmt(quantile(perJourney, 0.5))}   p95 ${fmt(quantile(perJourney, 0.95))}`);
console.log(`per service   p50 ${fmt(quantile(perService, 0.5))}   p95 ${fmt(quantile(perService, 0.95))}`);
console.log(
  `CPU per service p50 ${fmt(quantile(cpuPerService, 0.5))}   p95 ${fmt(quantile(cpuPerService, 0.95))} (wall times include waiting for a core)`,
);
console.log(
  `${services} services in ${(totalMs / 1000).toFixed(1)} s (goals: p95 < 500 ms per journey, < 60 s for 50 services)`,
);
