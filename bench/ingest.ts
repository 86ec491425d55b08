/**
 * bench:ingest — sustained ingest through HTTP into the bus, and acknowledgement latency.
 *
 * A server process (one Node thread: one core) runs the receivers on an in-process bus with a consumer
 * that counts what arrives; this process posts pre-encoded requests with keep-alive at a fixed
 * concurrency and times each acknowledgement. Scenarios: OTLP/HTTP protobuf logs, Fluent Bit json_lines
 * and OTLP/HTTP protobuf spans. At the end the server's bus count is checked against what was acked.
 * Every scenario runs twice, on a server without and with the ingest spool (INGEST_SPOOL: each accepted
 * batch appended to a file and fsync'd before the answer; the consumer releases what it counted, as the
 * stream stage releases what it stored), and the two are printed side by side.
 *
 *   npm run bench:ingest -- [--seconds 10] [--concurrency 8] [--batch 1000]
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const SERVE = process.argv.includes("--serve");

async function serve(): Promise<void> {
  const { default: Fastify } = await import("fastify");
  const { ConfigSchema } = await import("../src/config.js");
  const { TOPICS } = await import("../src/pipeline/bus/bus.js");
  const { MemoryBus } = await import("../src/pipeline/bus/memory.js");
  const { receiversPlugin } = await import("../src/pipeline/receivers/plugin.js");
  const { Spool } = await import("../src/pipeline/bus/spool.js");
  const spoolDir = process.argv[process.argv.indexOf("--serve") + 1];
  const spooled = spoolDir ? { topic: TOPICS.rawTelemetry, ...(await Spool.open(spoolDir, 4)) } : undefined;
  const bus = new MemoryBus({ capacity: 1_000_000, maxBatch: 5000, ...(spooled ? { spooled } : {}) });
  let arrived = 0;
  await bus.subscribe(TOPICS.rawTelemetry, "bench", async (batch) => {
    arrived += batch.messages.length;
    const last = batch.messages.at(-1);
    if (last) bus.release?.(batch.topic, batch.partition, Number(last.offset) + 1);
  });
  const app = Fastify({ logger: false, keepAliveTimeout: 60_000 });
  await app.register(receiversPlugin, {
    bus,
    config: ConfigSchema.parse({ OTLP_GRPC_PORT: "0", INGEST_BUFFER_EVENTS: "1000000" }),
  });
  app.get("/bench/arrived", async () => {
    await bus.flush();
    return { arrived };
  });
  const url = await app.listen({ host: "127.0.0.1", port: 0 });
  process.stdout.write(`${url}\n`);
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface Scenario {
  name: string;
  unit: string;
  path: string;
  headers: Record<string, string>;
  body: Uint8Array<ArrayBuffer>;
  records: number;
}

async function scenarios(batch: number): Promise<Scenario[]> {
  const { otlpTypes } = await import("../src/pipeline/receivers/otlp-proto.js");
  const t = otlpTypes();
  const resource = {
    attributes: [
      { key: "service.name", value: { stringValue: "checkout" } },
      { key: "k8s.pod.name", value: { stringValue: "checkout-7d9f8b6c4-x2k9p" } },
    ],
  };
  const ns = BigInt(Date.now()) * 1_000_000n;
  const logRecords = Array.from({ length: batch }, (_, i) => ({
    timeUnixNano: String(ns + BigInt(i)),
    severityNumber: i % 50 === 0 ? 17 : 9,
    severityText: i % 50 === 0 ? "ERROR" : "INFO",
    body: {
      stringValue: `GET /api/orders/${1000 + i} 200 ${(i * 7) % 300}ms user=${i % 97} region=eu-west-1`,
    },
    attributes: [{ key: "http.route", value: { stringValue: "/api/orders/{id}" } }],
  }));
  const logs = t.logs.request
    .encode(t.logs.request.fromObject({ resourceLogs: [{ resource, scopeLogs: [{ logRecords }] }] }))
    .finish();
  const spans = Array.from({ length: batch }, (_, i) => ({
    traceId: Buffer.from((i + 1).toString(16).padStart(32, "0"), "hex"),
    spanId: Buffer.from((i + 1).toString(16).padStart(16, "0"), "hex"),
    parentSpanId: i % 4 === 0 ? Buffer.alloc(0) : Buffer.from(i.toString(16).padStart(16, "0"), "hex"),
    name: i % 4 === 0 ? "POST /api/orders" : "SELECT orders",
    kind: i % 4 === 0 ? 2 : 3,
    startTimeUnixNano: String(ns + BigInt(i) * 1000n),
    endTimeUnixNano: String(ns + BigInt(i) * 1000n + 5_000_000n),
    attributes: [
      { key: "http.request.method", value: { stringValue: "POST" } },
      { key: "http.route", value: { stringValue: "/api/orders" } },
      { key: "http.response.status_code", value: { intValue: 201 } },
    ],
    status: { code: i % 100 === 0 ? 2 : 0 },
  }));
  const traces = t.traces.request
    .encode(t.traces.request.fromObject({ resourceSpans: [{ resource, scopeSpans: [{ spans }] }] }))
    .finish();
  const lines = Array.from({ length: batch }, (_, i) =>
    JSON.stringify({
      date: Date.now() / 1000 + i / 1e6,
      log: `2026-11-27T12:00:00.${String(i % 1000).padStart(3, "0")}Z INFO GET /api/cart ${200 + (i % 3)} ${i % 250}ms`,
      stream: "stdout",
      kubernetes: { labels: { app: "cart" }, namespace_name: "shop", pod_name: "cart-5c6d7e8f9-abcde" },
    }),
  ).join("\n");
  const ab = (b: Uint8Array) => Uint8Array.from(b);
  return [
    {
      name: "OTLP/HTTP protobuf logs",
      unit: "log lines",
      path: "/v1/logs",
      headers: { "content-type": "application/x-protobuf" },
      body: ab(logs),
      records: batch,
    },
    {
      name: "Fluent Bit json_lines",
      unit: "log lines",
      path: "/ingest/fluentbit",
      headers: { "content-type": "application/x-ndjson" },
      body: ab(Buffer.from(lines)),
      records: batch,
    },
    {
      name: "OTLP/HTTP protobuf spans",
      unit: "spans",
      path: "/v1/traces",
      headers: { "content-type": "application/x-protobuf" },
      body: ab(traces),
      records: batch,
    },
  ];
}

async function run(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: "string", default: "10" },
      concurrency: { type: "string", default: "8" },
      batch: { type: "string", default: "1000" },
    },
  });
  const seconds = Number(values.seconds);
  const concurrency = Number(values.concurrency);
  const batch = Number(values.batch);

  const load = loadavg()
    .map((l) => l.toFixed(1))
    .join(" ");
  console.log(
    `bench:ingest — server: one Node ${process.version} process; ${concurrency} concurrent clients; ` +
      `${batch} records per request; ${seconds} s per scenario and spool setting; load average before: ${load}`,
  );
  const spoolDir = mkdtempSync(join(tmpdir(), "slo-scout-bench-spool-"));
  const results: Record<string, Result[]> = {};
  try {
    for (const spool of [false, true]) {
      for (const r of await runServer(spool ? spoolDir : undefined, seconds, concurrency, batch)) {
        results[r.name] = [...(results[r.name] ?? []), r];
      }
    }
  } finally {
    rmSync(spoolDir, { recursive: true, force: true });
  }
  console.log(
    `\n${"scenario".padEnd(26)} ${"spool off".padStart(22)} ${"spool on".padStart(22)}  on/off  ack p95 off → on`,
  );
  for (const [name, [off, on]] of Object.entries(results)) {
    if (!off || !on) continue;
    const rate = (r: Result) => `${Math.round(r.rate).toLocaleString("en-US")} ${r.unit}/s`;
    console.log(
      `${name.padEnd(26)} ${rate(off).padStart(22)} ${rate(on).padStart(22)}  ${(on.rate / off.rate).toFixed(2).padStart(6)}  ${off.p95.toFixed(1)} → ${on.p95.toFixed(1)} ms`,
    );
  }
}

interface Result {
  name: string;
  unit: string;
  rate: number;
  p95: number;
}

/** One bench server (with the spool in `spoolDir`, or none), every scenario against it. */
async function runServer(
  spoolDir: string | undefined,
  seconds: number,
  concurrency: number,
  batch: number,
): Promise<Result[]> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", fileURLToPath(import.meta.url), "--serve", ...(spoolDir ? [spoolDir] : [])],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      const line = out.split("\n")[0];
      if (out.includes("\n") && line) resolve(line.trim());
    });
    child.once("exit", (code) => reject(new Error(`bench server exited (${code})`)));
  });
  console.log(`\nspool ${spoolDir ? "on (fsync per group of batches)" : "off"}:`);
  const results: Result[] = [];
  let acked = 0;
  try {
    for (const s of await scenarios(batch)) {
      // Warm-up: JIT and connection pool.
      for (let i = 0; i < 20; i++) {
        const r = await fetch(`${url}${s.path}`, { method: "POST", body: s.body, headers: s.headers });
        await r.arrayBuffer();
        if (r.ok) acked += s.records;
      }
      const latencies: number[] = [];
      let records = 0;
      let refused = 0;
      const started = performance.now();
      const deadline = started + seconds * 1000;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (performance.now() < deadline) {
            const t0 = performance.now();
            const res = await fetch(`${url}${s.path}`, { method: "POST", body: s.body, headers: s.headers });
            await res.arrayBuffer();
            latencies.push(performance.now() - t0);
            if (res.ok) records += s.records;
            else refused++;
          }
        }),
      );
      const elapsed = (performance.now() - started) / 1000;
      acked += records;
      latencies.sort((a, b) => a - b);
      results.push({ name: s.name, unit: s.unit, rate: records / elapsed, p95: percentile(latencies, 95) });
      console.log(
        `${s.name.padEnd(26)} ${Math.round(records / elapsed)
          .toLocaleString("en-US")
          .padStart(
            9,
          )} ${s.unit}/s  ack p50 ${percentile(latencies, 50).toFixed(1)} ms, p95 ${percentile(latencies, 95).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms  (${latencies.length} requests, ${refused} refused)`,
      );
    }
    const { arrived } = (await (await fetch(`${url}/bench/arrived`)).json()) as { arrived: number };
    console.log(
      `acknowledged ${acked} records; ${arrived} events arrived on the bus${arrived === acked ? " (all)" : " (MISMATCH)"}`,
    );
  } finally {
    child.kill();
  }
  return results;
}

if (SERVE) await serve();
else await run();
