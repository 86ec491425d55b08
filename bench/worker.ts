/**
 * bench:worker — the stream stage's CPU per record, from the bus to the store, per kind of record.
 *
 * The soak's records (bench/soak: OTLP log lines of one service and Fluent Bit lines of another, 4-span
 * traces over two services, remote_write series of 10 samples over 8,000 series, Faro page views) are
 * decoded by the real receivers' decoders, published onto `slo-scout serve`'s bus (the in-process bus with
 * its spool) and only then consumed by the real pipeline on a fresh embedded database (or DATABASE_URL),
 * so what is measured is the worker alone, as the server runs it when its bus is full. The pipeline's
 * clock advances with every record consumed at the soak's rate, so open traces, quiet-trace completion
 * and window pacing behave as at full load without waiting for the wall clock.
 *
 *   npm run bench:worker -- [--seconds 10] [--kinds logs,spans,metrics,rum,mixed] [--database postgres://… (an empty one: its tables are emptied; one holding other telemetry is refused)]
 *     [--statements] [--profile <prefix>]
 *
 * Reports per phase the process CPU per record (µs, process.cpuUsage) and records/s; `--statements`
 * adds the SQL statements that took the most time; `--profile <prefix>` writes each phase's CPU profile (the consumption only) to `<prefix>-<phase>.cpuprofile`.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { openApp } from "../src/app/context.js";
import { type Config, loadConfig } from "../src/config.js";
import type { TelemetryEvent } from "../src/core/telemetry.js";
import type { Bus, BusBatch } from "../src/pipeline/bus/bus.js";
import { publishEvents } from "../src/pipeline/receivers/backpressure.js";
import { decodeFaro } from "../src/pipeline/receivers/faro.js";
import { decodeFluentBit } from "../src/pipeline/receivers/fluentbit.js";
import { decodeOtlp } from "../src/pipeline/receivers/otlp-decode.js";
import { createRedactor } from "../src/pipeline/redact.js";
import { startPipeline } from "../src/pipeline/run.js";
import type { Sql } from "../src/store/ports.js";
import { logLine } from "./soak/messages.js";
import { faroPayload } from "./soak/senders.js";

type Kind = "logs" | "spans" | "metrics" | "rum";
/** Records (the soak's unit: lines, spans, samples, Faro items) and bus events of one request. */
type Request = { kind: Kind; events: TelemetryEvent[]; records: number };

const SERIES = 8_000;
const SAMPLES_PER_SERIES = 10;
const enc = new TextEncoder();

function otlpLogs(n: number, count: number, t: number): Request {
  const logRecords = Array.from({ length: count }, (_, i) => {
    const line = logLine(n + i);
    return {
      timeUnixNano: `${Math.round(t * 1e6)}`,
      severityText: line.severity,
      severityNumber: { DEBUG: 5, INFO: 9, WARN: 13, ERROR: 17 }[line.severity],
      body: { stringValue: line.text },
      attributes: [{ key: "code.function", value: { stringValue: "handle" } }],
    };
  });
  const body = {
    resourceLogs: [
      {
        resource: {
          attributes: [
            { key: "service.name", value: { stringValue: "soak-api" } },
            { key: "service.instance.id", value: { stringValue: `api-0-${n % 4}` } },
          ],
        },
        scopeLogs: [{ scope: { name: "soak" }, logRecords }],
      },
    ],
  };
  return {
    kind: "logs",
    events: decodeOtlp("logs", enc.encode(JSON.stringify(body)), "json", t).events,
    records: count,
  };
}

function fluentbit(n: number, count: number, t: number): Request {
  const lines = Array.from({ length: count }, (_, i) => {
    const line = logLine(n + i);
    return JSON.stringify({
      date: t / 1000,
      log: `${new Date(t).toISOString()} ${line.severity} ${line.text}`,
      stream: line.severity === "ERROR" ? "stderr" : "stdout",
      kubernetes: {
        labels: { app: "soak-fluentbit" },
        namespace_name: "shop",
        pod_name: `soak-fluentbit-7d9f8b6c4-0${n % 4}`,
      },
    });
  });
  const decoded = decodeFluentBit(enc.encode(`${lines.join("\n")}\n`), "json_lines", {
    serviceKey: "kubernetes.labels.app",
    now: t,
  });
  return { kind: "logs", events: decoded.events, records: count };
}

const hex = (n: number, width: number) => n.toString(16).padStart(width, "0").slice(-width);

/** The soak's trace: frontend GET /checkout → POST checkout → checkout POST /api/orders → SELECT orders. */
function traces(n: number, count: number, t: number): Request[] {
  const frontend: unknown[] = [];
  const checkout: unknown[] = [];
  const ns = (ms: number) => `${Math.round(ms * 1e6)}`;
  const attr = (key: string, v: string | number) => ({
    key,
    value: typeof v === "number" ? { intValue: v } : { stringValue: v },
  });
  for (let i = 0; i < count; i++) {
    const k = n + i;
    const failed = k % 50 === 0;
    const traceId = `${hex(0xab5e, 16)}${hex(k, 16)}`;
    const id = (s: number) => hex(k * 4 + s + 1, 16);
    const t0 = t - 60;
    frontend.push(
      {
        traceId,
        spanId: id(0),
        name: "GET /checkout",
        kind: 2,
        startTimeUnixNano: ns(t0),
        endTimeUnixNano: ns(t0 + 55 + (k % 7)),
        attributes: [
          attr("http.request.method", "GET"),
          attr("http.route", "/checkout"),
          attr("http.response.status_code", failed ? 502 : 200),
        ],
        status: {},
      },
      {
        traceId,
        spanId: id(1),
        parentSpanId: id(0),
        name: "POST checkout",
        kind: 3,
        startTimeUnixNano: ns(t0 + 2),
        endTimeUnixNano: ns(t0 + 52),
        attributes: [attr("http.request.method", "POST"), attr("server.address", "checkout")],
        status: {},
      },
    );
    checkout.push(
      {
        traceId,
        spanId: id(2),
        parentSpanId: id(1),
        name: "POST /api/orders",
        kind: 2,
        startTimeUnixNano: ns(t0 + 4),
        endTimeUnixNano: ns(t0 + 50),
        attributes: [
          attr("http.request.method", "POST"),
          attr("http.route", "/api/orders"),
          attr("http.response.status_code", failed ? 500 : 201),
        ],
        status: failed ? { code: 2, message: `payment declined code=${k % 90}` } : {},
      },
      {
        traceId,
        spanId: id(3),
        parentSpanId: id(2),
        name: "SELECT orders",
        kind: 1,
        startTimeUnixNano: ns(t0 + 6),
        endTimeUnixNano: ns(t0 + 6 + (k % 20)),
        attributes: [attr("db.system", "postgresql")],
        status: {},
      },
    );
  }
  const request = (service: string, spans: unknown[]): Request => {
    const body = {
      resourceSpans: [
        {
          resource: {
            attributes: [attr("service.name", service), attr("service.instance.id", `${service}-${n % 4}`)],
          },
          scopeSpans: [{ scope: { name: "soak" }, spans }],
        },
      ],
    };
    return {
      kind: "spans",
      events: decodeOtlp("traces", enc.encode(JSON.stringify(body)), "json", t).events,
      records: spans.length,
    };
  };
  return [request("soak-frontend", frontend), request("soak-checkout", checkout)];
}

/** remote_write: `count` series of the 8,000, ten samples each, as the receiver's metric events. */
function remoteWrite(n: number, count: number, t: number): Request {
  const events: TelemetryEvent[] = [];
  for (let i = 0; i < count; i++) {
    const k = (n + i) % SERIES;
    const round = Math.floor((n + i) / SERIES);
    const samples = Array.from({ length: SAMPLES_PER_SERIES }, (_, j) => ({
      time: Math.floor(t) - 10_000 + round * SAMPLES_PER_SERIES + j,
      value: round * 20 + j * 2,
    }));
    const histogram = k % 2 === 1;
    events.push({
      schemaVersion: 1,
      kind: "metric",
      service: "soak-metrics",
      time: samples.at(-1)!.time,
      attributes: {},
      metric: {
        name: histogram ? "http_request_duration_seconds_bucket" : "http_requests_total",
        type: histogram ? "histogram" : "counter",
        labels: {
          service: "soak-metrics",
          instance: `pod-0-${Math.floor(k / 2000)}-${Math.floor((k % 2000) / 100)}`,
          route: `/api/r${k % 50}`,
          ...(histogram ? { le: String(0.05 * (1 + (k % 7))) } : { code: String(200 + (k % 3) * 100) }),
        },
        samples,
      },
    });
  }
  return { kind: "metrics", events, records: count * SAMPLES_PER_SERIES };
}

function faro(n: number, t: number): Request {
  const { body } = faroPayload(n, 5000, new Date(t).toISOString());
  return { kind: "rum", events: decodeFaro(enc.encode(body), t).events, records: 3 };
}

/**
 * The requests of `seconds` of the soak's load for the kinds given (per second 50,000 log lines, half
 * OTLP and half Fluent Bit; 10,000 spans; 100,000 samples; 600 Faro items), in 100 ms steps of event time
 * starting at `start`, in the order the receivers would publish them.
 */
function load(kinds: Kind[], seconds: number, start: number): Request[] {
  const out: Request[] = [];
  const n: Record<Kind, number> = { logs: 0, spans: 0, metrics: 0, rum: 0 };
  for (let step = 0; step < seconds * 10; step++) {
    const t = start + step * 100;
    if (kinds.includes("logs")) {
      for (let i = 0; i < 5; i++) out.push(otlpLogs(n.logs + i * 500, 500, t));
      out.push(
        fluentbit(n.logs + 2500, 1000, t),
        fluentbit(n.logs + 3500, 1000, t),
        fluentbit(n.logs + 4500, 500, t),
      );
      n.logs += 5000;
    }
    if (kinds.includes("spans")) {
      out.push(...traces(n.spans, 250, t));
      n.spans += 250;
    }
    if (kinds.includes("metrics")) {
      for (let i = 0; i < 5; i++) out.push(remoteWrite(n.metrics + i * 200, 200, t));
      n.metrics += 1000;
    }
    if (kinds.includes("rum")) {
      for (let i = 0; i < 20; i++) out.push(faro(n.rum + i, t));
      n.rum += 20;
    }
  }
  return out;
}

/** Wall time and calls per SQL statement (its first line), for `--statements`. */
type Statements = Map<string, { ms: number; calls: number }>;

function timed(sql: Sql, statements: Statements): Sql {
  const record = (text: string, ms: number) => {
    const key = text.trim().split("\n")[0]!.slice(0, 90);
    const s = statements.get(key) ?? { ms: 0, calls: 0 };
    s.ms += ms;
    s.calls++;
    statements.set(key, s);
  };
  const wrap = (inner: Sql): Sql => ({
    ...inner,
    async query<T>(text: string, params?: unknown[]) {
      const t0 = performance.now();
      try {
        return await inner.query<T>(text, params);
      } finally {
        record(text, performance.now() - t0);
      }
    },
    transaction: (fn) => inner.transaction((tx) => fn(wrap(tx))),
  });
  return wrap(sql);
}

/** The bus as the pipeline sees it, counting the events handed over so the pipeline's clock can follow. */
function counting(bus: Bus, onEvents: (n: number) => void): Bus {
  return Object.assign(Object.create(bus) as Bus, {
    subscribe<T>(topic: string, group: string, handler: (batch: BusBatch<T>) => Promise<void>) {
      return bus.subscribe<T>(topic, group, (batch) => {
        onEvents(batch.messages.length);
        return handler(batch);
      });
    },
  });
}

async function phase(
  name: string,
  kinds: Kind[],
  seconds: number,
  database?: string,
  profile?: string,
  statements?: Statements,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "slo-scout-bench-worker-"));
  const start = Date.now() - seconds * 1000 - 30_000;
  const requests = load(kinds, seconds, start);
  const records: Record<Kind, number> = { logs: 0, spans: 0, metrics: 0, rum: 0 };
  let events = 0;
  for (const r of requests) {
    records[r.kind] += r.records;
    events += r.events.length;
  }
  const config: Config = loadConfig(
    {
      DATA_DIR: dir,
      INGEST_BUFFER_EVENTS: String(events + 1000),
      ...(database ? { DATABASE_URL: database } : {}),
      LOG_LEVEL: "warn",
    },
    join(dir, "none.yml"),
  );
  const app = await openApp(config);
  if (database) {
    // Each phase starts from empty tables; a database that already holds someone's telemetry is refused
    // rather than emptied (the phases' own services are all named soak-*).
    const { rows } = await app.sql.query<{ name: string }>(
      "SELECT name FROM services WHERE name NOT LIKE 'soak-%' LIMIT 1",
    );
    if (rows.length > 0) {
      await app.close();
      throw new Error(
        `--database ${database} holds telemetry (service ${rows[0]!.name}); bench:worker empties the tables it measures, so give it an empty database`,
      );
    }
    await app.sql.query(
      "TRUNCATE metric_samples, metric_series, capsules, capsule_vectors, route_stats, edge_stats, example_traces, web_vital_stats, applied_traces, applied_rum, consumer_offsets, window_watermarks, fingerprint_state, late_events, services",
    );
  }
  const bus = await app.bus();
  for (const r of requests) await publishEvents(bus, r.events);
  // Event time per event consumed: the phase's span of event time over its events.
  const msPerEvent = (seconds * 1000) / events;
  let consumed = 0;
  const clock = () => start + consumed * msPerEvent + 10_000;
  global.gc?.();
  const session = profile ? new Session() : undefined;
  if (session) {
    session.connect();
    await session.post("Profiler.enable");
    await session.post("Profiler.start");
  }
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const pipeline = await startPipeline({
    bus: counting(bus, (k) => {
      consumed += k;
    }),
    sql: statements ? timed(app.sql, statements) : app.sql,
    blobs: await app.blobs(),
    vectors: await app.vectors(),
    redact: createRedactor({ extraPatterns: config.REDACT_EXTRA_PATTERNS }),
    allowedLatenessMs: 600_000,
    correctionHorizonMs: config.CORRECTION_HORIZON,
    now: clock,
  });
  await bus.flush();
  await pipeline.drain();
  const cpu = process.cpuUsage(cpu0);
  const wallMs = performance.now() - t0;
  if (session) {
    const { profile: taken } = await session.post("Profiler.stop");
    writeFileSync(`${profile}-${name}.cpuprofile`, JSON.stringify(taken));
    session.disconnect();
  }
  await pipeline.stop();
  await app.close();
  rmSync(dir, { recursive: true, force: true });
  const total = Object.values(records).reduce((a, b) => a + b, 0);
  const cpuUs = cpu.user + cpu.system;
  const shown = kinds.map((k) => `${k} ${records[k].toLocaleString("en")}`).join(", ");
  console.log(
    `${name.padEnd(8)} ${shown} (${events.toLocaleString("en")} events): ` +
      `${(cpuUs / total).toFixed(2)} µs CPU/record, ${(cpuUs / events).toFixed(2)} µs CPU/event, ` +
      `${Math.round((total / wallMs) * 1000).toLocaleString("en")} records/s, wall ${(wallMs / 1000).toFixed(1)} s`,
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: "string", default: "10" },
      kinds: { type: "string", default: "logs,spans,metrics,rum,mixed" },
      database: { type: "string" },
      profile: { type: "string" },
      statements: { type: "boolean", default: false },
    },
  });
  const seconds = Number(values.seconds);
  console.log(
    `bench:worker, ${seconds} s of the soak's load per phase; Node ${process.version}; load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
  for (const k of values.kinds!.split(",")) {
    const kinds: Kind[] = k === "mixed" ? ["logs", "spans", "metrics", "rum"] : [k as Kind];
    const phaseSeconds = k === "spans" || k === "rum" ? seconds * 3 : seconds;
    const statements: Statements | undefined = values.statements ? new Map() : undefined;
    await phase(k, kinds, phaseSeconds, values.database, values.profile, statements);
    for (const [text, s] of [...(statements ?? [])].sort((a, b) => b[1].ms - a[1].ms).slice(0, 12)) {
      console.log(`  ${s.ms.toFixed(0).padStart(7)} ms ${String(s.calls).padStart(6)}× ${text}`);
    }
  }
  console.log(
    `load average after ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
}

await main();
