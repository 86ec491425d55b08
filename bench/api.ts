/**
 * Benchmark: latency of the REST API's read endpoints with 50 services loaded.
 *
 *   npm run bench:api [-- --requests 200 --concurrency 4]
 *
 * The server as `serve` builds it (every route plugin, JWT auth) listens on loopback over an in-memory
 * embedded database holding 50 services, each with the journeys and the nine proposals `analyze checkout`
 * recorded on the demo shop (test/fixtures/analysis/demo-checkout.json, renamed per service), the audit
 * entry of one approved change and two days of hourly log capsules of three templates: 150 journeys, 450
 * proposals, 50 changes and 7,200 capsules. Each read operation is called `requests` times over keep-alive connections,
 * `concurrency` at a time, with a read-scoped bearer token; the figures are per operation, from sending
 * a request to its last byte. On a loaded machine those are upper bounds; the CPU time the process spent
 * per request (server and client share it) and the size of an answer depend much less on the load.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { SignJWT } from "jose";
import pino from "pino";
import { openApp } from "../src/app/context.js";
import { ConfigSchema } from "../src/config.js";
import type { Capsule } from "../src/core/capsule.js";
import { Journey } from "../src/core/journey.js";
import { Proposal } from "../src/core/proposal.js";
import { buildServer } from "../src/server/app.js";
import { ROUTES } from "../src/server/routes.js";
import { appendAudit } from "../src/store/repos/audit.js";
import { capsuleId, upsertCapsules } from "../src/store/repos/capsules.js";
import { saveProposal } from "../src/store/repos/proposals.js";
import { touchServices, upsertJourneys } from "../src/store/repos/services.js";

const { values } = parseArgs({
  options: { requests: { type: "string", default: "200" }, concurrency: { type: "string", default: "4" } },
});
const requests = Number(values.requests);
const concurrency = Number(values.concurrency);
const SERVICES = 50;

const recorded = JSON.parse(
  readFileSync(new URL("../test/fixtures/analysis/demo-checkout.json", import.meta.url), "utf8"),
) as { journeys: unknown[]; proposals: unknown[] };

const dir = mkdtempSync(join(tmpdir(), "slo-scout-bench-api-"));
const repo = join(dir, "repo");
mkdirSync(repo);
execFileSync("git", ["-C", repo, "init", "-q", "-b", "main"]);
const secret = "bench-api-secret-0123456789abcdef0123456789";
const config = ConfigSchema.parse({
  DATABASE_URL: "pglite://memory",
  BLOB_URL: `file://${dir}/blobs`,
  SLO_SCOUT_REPO: repo,
  OTLP_GRPC_PORT: "0",
  PORT: "0",
  HOST: "127.0.0.1",
  JWT_SECRET: secret,
  LOG_LEVEL: "silent",
});
const logger = pino({ level: "silent" });
const app = await openApp(config, { logger });

const now = Date.now();
const names = Array.from({ length: SERVICES }, (_, i) => `svc-${String(i).padStart(2, "0")}`);
const rename = (value: unknown, from: string, to: string) =>
  JSON.parse(JSON.stringify(value).replaceAll(`"${from}"`, `"${to}"`).replaceAll(`${from} `, `${to} `));
const ids: string[] = [];
const capsuleIds: string[] = [];
for (const [i, name] of names.entries()) {
  await touchServices(app.sql, [
    { name, first: now - 8 * 86_400_000, last: now, signals: ["metric", "span"] },
  ]);
  const journeys = recorded.journeys.map((j) => {
    const parsed = Journey.parse(j);
    return Journey.parse({ ...parsed, key: `${name}:${parsed.key}`, service: name });
  });
  await upsertJourneys(app.sql, journeys);
  for (const p of recorded.proposals) {
    const parsed = Proposal.parse(p);
    const id = `prop-${String(i).padStart(4, "0")}${parsed.id.slice(-8)}`;
    await saveProposal(app.sql, Proposal.parse({ ...rename(parsed, parsed.service, name), id }));
    ids.push(id);
  }
  // What an approval writes to the audit log (src/app/approve.ts), which GET /changes lists.
  await appendAudit(app.sql, {
    at: now - i * 60_000,
    actor: "api:bench",
    action: "approve",
    subject: `service:${name}`,
    source: "api",
    details: {
      proposals: ids.slice(-2),
      change: {
        id: String(i + 1),
        branch: `slo-scout/${name}`,
        url: `local:slo-scout/${name}`,
        commit: "0".repeat(40),
      },
      files: [
        `slos/${name}.yml`,
        `rules/${name}.rules.yml`,
        `rules/${name}.rules.test.yml`,
        `dashboards/${name}.json`,
      ],
    },
  });
  const hour = Math.floor(now / 3_600_000) * 3_600_000;
  const capsules: Capsule[] = [];
  for (const [t, template] of [
    "order placed id=<*> total=<*>",
    "payment declined code=<*>",
    "db pool exhausted after <*> ms",
  ].entries())
    for (let h = 0; h < 48; h++) {
      const windowStart = hour - h * 3_600_000;
      capsules.push({
        fingerprint: createHash("sha256").update(`${name} ${template}`).digest("hex"),
        template,
        service: name,
        windowStart,
        count: 40 + t,
        severityCounts: {
          trace: 0,
          debug: 0,
          info: t === 0 ? 40 : 0,
          warn: 0,
          error: t === 0 ? 0 : 40 + t,
          fatal: 0,
        },
        firstSeen: windowStart + 1_000,
        lastSeen: windowStart + 3_500_000,
        samples: Array.from({ length: 5 }, (_, k) => template.replaceAll("<*>", String(1000 + k))),
      });
    }
  await upsertCapsules(app.sql, capsules);
  capsuleIds.push(...capsules.map(capsuleId));
}

const deps = { config, logger, sql: app.sql, app, bus: await app.bus(), queue: await app.queue() };
const server = await buildServer(deps, { plugins: ROUTES });
await server.listen({ host: "127.0.0.1", port: 0 });
const base = `http://127.0.0.1:${(server.server.address() as { port: number }).port}/api/v1`;
const token = await new SignJWT({ scope: "read" })
  .setProtectedHeader({ alg: "HS256" })
  .setSubject("bench")
  .setExpirationTime("1h")
  .sign(new TextEncoder().encode(secret));
const headers = { authorization: `Bearer ${token}` };

const pick = <T>(xs: T[], k: number) => xs[k % xs.length]!;
const operations: { name: string; url: (k: number) => string }[] = [
  { name: "GET /services", url: () => "/services" },
  { name: "GET /services/{service}/journeys", url: (k) => `/services/${pick(names, k)}/journeys` },
  { name: "GET /proposals", url: () => "/proposals" },
  { name: "GET /proposals?service=", url: (k) => `/proposals?service=${pick(names, k)}&status=proposed` },
  { name: "GET /proposals/{id}", url: (k) => `/proposals/${pick(ids, k * 7)}` },
  { name: "GET /changes", url: () => "/changes" },
  { name: "GET /capsules?service=", url: (k) => `/capsules?service=${pick(names, k)}` },
  { name: "GET /capsules/{id}", url: (k) => `/capsules/${pick(capsuleIds, k * 7)}` },
];

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

console.log(
  `bench:api: ${SERVICES} services, ${recorded.journeys.length * SERVICES} journeys, ${ids.length} proposals, ${SERVICES} changes, ${capsuleIds.length} capsules; ` +
    `${requests} requests per operation, ${concurrency} at a time; ${cpus().length} cores, load average ${loadavg()[0]!.toFixed(1)}`,
);
console.log(
  "| Operation | p50 | p95 | p99 | max | CPU per request | size |\n|---|---:|---:|---:|---:|---:|---:|",
);
for (const op of operations) {
  const first = await fetch(base + op.url(0), { headers });
  if (first.status !== 200) throw new Error(`${op.name}: ${first.status} ${await first.text()}`);
  const size = (await first.arrayBuffer()).byteLength;
  const times: number[] = [];
  const cpu = process.cpuUsage();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests) {
        const k = next++;
        const start = performance.now();
        const res = await fetch(base + op.url(k), { headers });
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`${op.name}: ${res.status}`);
        times.push(performance.now() - start);
      }
    }),
  );
  const used = process.cpuUsage(cpu);
  times.sort((a, b) => a - b);
  const ms = (x: number) => `${x.toFixed(1)} ms`;
  const kb = size < 10_240 ? `${(size / 1024).toFixed(1)} KB` : `${Math.round(size / 1024)} KB`;
  console.log(
    `| ${op.name} | ${ms(percentile(times, 50))} | ${ms(percentile(times, 95))} | ${ms(percentile(times, 99))} | ` +
      `${ms(times.at(-1)!)} | ${ms((used.user + used.system) / 1000 / requests)} | ${kb} |`,
  );
}
await server.close();
await app.close();
rmSync(dir, { recursive: true, force: true });
