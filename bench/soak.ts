/**
 * bench:soak — minutes of mixed ingest against `slo-scout serve` with a fault midway, then acknowledged
 * against stored, acknowledgement latency per receiver and the server's memory over time.
 *
 * Configuration A: the server on a Postgres and a Kafka broker of this run's own (other ports and data
 * directories, so a fault never touches other work), as deployed at scale: two processes of the CLI, one
 * with SLO_SCOUT_ROLES=receivers,api (the port clients use) and one with SLO_SCOUT_ROLES=worker (its own
 * port, for /health and /metrics), unless --split off runs one process with every role. Postgres is
 * restarted a third of the way in, the broker killed and restarted at two thirds. Configuration B: embedded defaults (PGlite, the in-process
 * bus with its spool); the server itself is stopped gracefully (SIGTERM) halfway and started again on the
 * same data directory, the nearest fault for a one-process deployment.
 *
 * Load: OTLP/HTTP protobuf logs and spans from the OpenTelemetry SDK (batch processors, OTLP exporters),
 * Fluent Bit `json_lines`, Prometheus remote_write from SLO-Scout's remote_write client, Faro transport
 * bodies; each receiver's generator is a child process of its own. After the load, the run waits for the
 * pipeline to store everything (the Kafka consumer at the end of the topic; then a graceful stop) and
 * counts what the database holds. Writes report.json, report.md and a PNG per configuration to --out.
 *
 *   npm run bench:soak -- [--minutes 10] [--config A|B|both] [--log-rate 50000] [--span-rate 10000]
 *     [--sample-rate 100000] [--faro-rate 600] [--down 10] [--drain-minutes 15] [--scale-a 1]
 *     [--split on|off] [--out bench/results/soak-<date>] [--keep] [--node-flags "<the server's Node flags>"]
 */
import { type ChildProcess, fork } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, type WriteStream, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Kafka, logLevel } from "kafkajs";
import { TOPICS } from "../src/pipeline/bus/bus.js";
import { PIPELINE_GROUP } from "../src/pipeline/run.js";
import type { Sql } from "../src/store/ports.js";
import { openPglite } from "../src/store/sql/pglite.js";
import { openPostgres } from "../src/store/sql/postgres.js";
import { freePort } from "../test/helpers/free-port.js";
import { type KafkaBroker, startKafkaBroker } from "../test/helpers/kafka-broker.js";
import { type PostgresInstance, startPostgresInstance } from "../test/helpers/postgres-instance.js";
import { renderPng } from "./soak/plot.js";
import { type Fault, type RunReport, renderMarkdown, summarize } from "./soak/report.js";
import {
  acceptedByServer,
  imageNodeFlags,
  machineBusySeconds,
  openLog,
  processUsage,
  type Serve,
  startServe,
} from "./soak/server.js";
import { type Stored, storedCounts } from "./soak/stored.js";
import {
  type Done,
  type GeneratorArgs,
  type GeneratorMessage,
  RECEIVERS,
  type Receiver,
  sleep,
  type Tick,
} from "./soak/tally.js";

const { values } = parseArgs({
  options: {
    minutes: { type: "string", default: "10" },
    config: { type: "string", default: "both" },
    "log-rate": { type: "string", default: "50000" },
    "span-rate": { type: "string", default: "10000" },
    "sample-rate": { type: "string", default: "100000" },
    "faro-rate": { type: "string", default: "600" },
    down: { type: "string", default: "10" },
    "drain-minutes": { type: "string", default: "15" },
    "scale-a": { type: "string", default: "1" },
    split: { type: "string", default: "on" },
    out: { type: "string" },
    keep: { type: "boolean", default: false },
    "node-flags": { type: "string" },
  },
});
/** The server's Node flags: the container image's unless given (e.g. `--node-flags "$(npm start's)"`). */
const nodeFlags = values["node-flags"]?.split(" ").filter(Boolean) ?? imageNodeFlags();
const minutes = Number(values.minutes);
const downMs = Number(values.down) * 1000;
const configs = values.config === "both" ? (["B", "A"] as const) : ([values.config] as ("A" | "B")[]);
/** Configuration A's rates are the others' times this (its one worker stores far fewer events a second). */
const scaleA = Number(values["scale-a"]);
if (!configs.every((c) => c === "A" || c === "B")) throw new Error("--config is A, B or both");
if (values.split !== "on" && values.split !== "off") throw new Error("--split is on or off");
/** A's receivers (with the API) and its worker as two processes. */
const splitA = values.split === "on";
const logRate = Number(values["log-rate"]);
/** Records per second each receiver is offered; the log lines are split between OTLP and Fluent Bit. */
const targets: Record<Receiver, number> = {
  "otlp-logs": Math.round(logRate / 2),
  fluentbit: logRate - Math.round(logRate / 2),
  "otlp-spans": Number(values["span-rate"]),
  "remote-write": Number(values["sample-rate"]),
  faro: Number(values["faro-rate"]),
};
/** Exporters (OTLP: one SDK provider each) or requests in flight per generator. */
const CONCURRENCY: Record<Receiver, number> = {
  "otlp-logs": 4,
  "otlp-spans": 4,
  fluentbit: 4,
  "remote-write": 4,
  faro: 8,
};
const out =
  values.out ?? join("bench", "results", `soak-${new Date().toISOString().slice(0, 16).replace(":", "")}`);
mkdirSync(out, { recursive: true });
const SAMPLE_EVERY_MS = 2000;

const GENERATOR = new URL("./soak/generator.ts", import.meta.url);

interface Generator {
  child: ChildProcess;
  done: Promise<Done>;
}

function startGenerator(args: GeneratorArgs, onTick: (t: Tick) => void): Generator {
  const child = fork(GENERATOR, [JSON.stringify(args)], { execArgv: ["--import", "tsx"] });
  const done = new Promise<Done>((resolve, reject) => {
    child.on("message", (m: GeneratorMessage) => {
      if (m.type === "tick") onTick(m);
      else resolve(m);
    });
    child.once("exit", (code) =>
      reject(new Error(`the ${args.receiver} generator exited (${code}) before it was done`)),
    );
  });
  return { child, done };
}

/** Sum of the stored stream-stage offsets on the raw-telemetry topic, and of the topic's end offsets. */
async function kafkaBacklog(sql: Sql, kafka: Kafka): Promise<{ stored: number; end: number }> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const end = (await admin.fetchTopicOffsets(TOPICS.rawTelemetry)).reduce((n, p) => n + Number(p.high), 0);
    const stored = Number(
      (
        await sql.query<{ n: string | null }>(
          "SELECT sum(next_offset) AS n FROM consumer_offsets WHERE group_id = $1 AND topic = $2",
          [PIPELINE_GROUP, TOPICS.rawTelemetry],
        )
      ).rows[0]?.n ?? 0,
    );
    return { stored, end };
  } finally {
    await admin.disconnect();
  }
}

/** The pipeline's backlog the receivers last measured (their /metrics), or undefined. */
async function backlogOf(url: string): Promise<number | undefined> {
  try {
    const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(1_500) })).text();
    const m = /^slo_scout_pipeline_backlog_messages\{[^}]*\} (\S+)$/m.exec(text);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** CPU share (%) of a process between two calls, from /proc; undefined at its first sample or when gone. */
function cpuMeter(): (pid: number | undefined) => { rssMiB?: number; cpuPercent?: number } {
  let last: { at: number; cpu: number; pid: number } | undefined;
  return (pid) => {
    const at = Date.now();
    const usage = pid === undefined ? undefined : processUsage(pid);
    if (!usage) return {};
    const cpuPercent =
      last && last.pid === pid ? ((usage.cpuSeconds - last.cpu) / ((at - last.at) / 1000)) * 100 : undefined;
    last = { at, cpu: usage.cpuSeconds, pid: pid! };
    return { rssMiB: usage.rssMiB, ...(cpuPercent !== undefined ? { cpuPercent } : {}) };
  };
}

/** One configuration, with its backends and data directory removed afterwards, whatever happened. */
async function runConfig(config: "A" | "B"): Promise<RunReport> {
  const dataDir = mkdtempSync(join(tmpdir(), `slo-scout-soak-${config}-`));
  const log = openLog(join(out, `server-${config}.log`));
  let pg: PostgresInstance | undefined;
  let broker: KafkaBroker | undefined;
  try {
    if (config === "A") {
      pg = await startPostgresInstance({ fsync: true, sharedBuffers: "128MB" });
      broker = await startKafkaBroker(await freePort());
    }
    return await soak(config, dataDir, log, pg, broker);
  } finally {
    log.end();
    await broker?.remove();
    await pg?.remove();
    if (!values.keep) rmSync(dataDir, { recursive: true, force: true });
  }
}

async function soak(
  config: "A" | "B",
  dataDir: string,
  log: WriteStream,
  pg: PostgresInstance | undefined,
  broker: KafkaBroker | undefined,
): Promise<RunReport> {
  const port = await freePort();
  const say = (m: string) => console.log(`[soak ${config} ${new Date().toISOString().slice(11, 19)}] ${m}`);
  const rates = Object.fromEntries(
    RECEIVERS.map((r) => [r, Math.round(targets[r] * (config === "A" ? scaleA : 1))]),
  ) as Record<Receiver, number>;
  const env: Record<string, string> = { DATA_DIR: dataDir };
  if (pg && broker) {
    env.DATABASE_URL = pg.url;
    env.KAFKA_BROKERS = broker.brokers.join(",");
  }
  const split = config === "A" && splitA;
  const loadBefore = loadavg();
  const workerLog = split ? openLog(join(out, `server-${config}-worker.log`)) : undefined;
  let server: Serve | undefined;
  let worker: Serve | undefined;
  if (split) {
    // Both run the migrations at start; an advisory lock makes concurrent starts safe.
    const started = await Promise.allSettled([
      startServe(port, { ...env, SLO_SCOUT_ROLES: "receivers,api" }, log, nodeFlags),
      startServe(await freePort(), { ...env, SLO_SCOUT_ROLES: "worker" }, workerLog!, nodeFlags),
    ]);
    const failed = started.find((r) => r.status === "rejected");
    if (failed) {
      for (const r of started) if (r.status === "fulfilled") await r.value.stop();
      workerLog!.end();
      throw failed.reason;
    }
    const [receivers, pipeline] = started.map((r) => (r as PromiseFulfilledResult<Serve>).value) as [
      Serve,
      Serve,
    ];
    server = receivers;
    worker = pipeline;
    say(
      `receivers + API ${receivers.url} (pid ${receivers.pid}), worker ${pipeline.url} (pid ${pipeline.pid})`,
    );
  } else {
    server = await startServe(port, env, log, nodeFlags);
    say(`server ${server.url} (pid ${server.pid})`);
  }
  say(`load average ${loadBefore.map((l) => l.toFixed(2)).join(" ")}`);

  const t0 = Date.now();
  const ticks: Tick[] = [];
  const samples: RunReport["samples"] = [];
  const serverCpu = cpuMeter();
  const workerCpu = cpuMeter();
  const busyAtStart = machineBusySeconds();
  /** Each load generator's CPU seconds at its latest sample (its last one misses at most a sample's worth). */
  const generatorCpu: Partial<Record<Receiver, number>> = {};
  const sampler = setInterval(() => {
    for (const g of generators) {
      const usage = g.child.pid === undefined ? undefined : processUsage(g.child.pid);
      if (usage) generatorCpu[g.receiver] = usage.cpuSeconds;
    }
    const s = serverCpu(server?.pid);
    const w = workerCpu(worker?.pid);
    const sample: RunReport["samples"][number] = {
      t: (Date.now() - t0) / 1000,
      ...s,
      ...(w.rssMiB !== undefined ? { workerRssMiB: w.rssMiB } : {}),
      ...(w.cpuPercent !== undefined ? { workerCpuPercent: w.cpuPercent } : {}),
      load1: loadavg()[0]!,
    };
    samples.push(sample);
    if (broker && server) {
      void backlogOf(server.url).then((b) => {
        if (b !== undefined) sample.backlog = b;
      });
    }
  }, SAMPLE_EVERY_MS);

  const generators = RECEIVERS.filter((r) => rates[r] > 0).map((receiver) => ({
    receiver,
    ...startGenerator(
      { receiver, url: server!.url, rate: rates[receiver], concurrency: CONCURRENCY[receiver], index: 0 },
      (t) => ticks.push(t),
    ),
  }));

  /** The server's accepted records, summed over its lives (each read just before it is stopped). */
  const accepted: Record<string, number> = {};
  const stopServer = async (s: Serve) => {
    for (const [k, v] of Object.entries((await acceptedByServer(s.url)) ?? {}))
      accepted[k] = (accepted[k] ?? 0) + v;
    return s.stop();
  };
  const faults: Fault[] = [];
  const stops: { code: number | null; ms: number }[] = [];
  let done: Done[];
  let loadEndS: number;
  let machineBusy: number;
  let drainMs: number;
  let stored: Stored;
  let undrained = 0;
  try {
    const fault = async (label: string, at: number, act: () => Promise<string>) => {
      await sleep(Math.max(0, t0 + at - Date.now()));
      const start = Date.now();
      say(`${label}…`);
      const detail = await act();
      faults.push({ label, startS: (start - t0) / 1000, endS: (Date.now() - t0) / 1000, detail });
      say(`${label}: ${detail}`);
    };
    const durationMs = minutes * 60_000;
    if (pg && broker) {
      await fault("Postgres restart", durationMs / 3, async () => {
        await pg.stop();
        await sleep(downMs);
        await pg.start();
        return `pg_ctl stop -m fast, ${downMs / 1000} s down, started again`;
      });
      await fault("Kafka broker restart", (2 * durationMs) / 3, async () => {
        await broker.stop();
        await sleep(downMs);
        const s = Date.now();
        await broker.start();
        return `SIGKILL, ${downMs / 1000} s down, started again on its data (answered ${Date.now() - s} ms after start)`;
      });
    } else {
      await fault("server restart", durationMs / 2, async () => {
        const stopped = await stopServer(server!);
        server = undefined;
        const s = Date.now();
        server = await startServe(port, env, log, nodeFlags);
        return `SIGTERM: exit ${stopped.code} after ${stopped.ms} ms; started again on the same data directory, listening ${Date.now() - s} ms later`;
      });
    }
    await sleep(Math.max(0, t0 + durationMs - Date.now()));
    say("load stopped; waiting for the clients' last exports");
    for (const g of generators) g.child.send("stop");
    done = await Promise.all(generators.map((g) => g.done));
    loadEndS = (Date.now() - t0) / 1000;
    machineBusy = machineBusySeconds() - busyAtStart;

    say("draining");
    const drainStart = Date.now();
    let sql: Sql;
    if (pg && broker) {
      sql = await openPostgres(pg.url, { max: 2 });
      const kafka = new Kafka({ brokers: broker.brokers, logLevel: logLevel.NOTHING });
      for (;;) {
        const b = await kafkaBacklog(sql, kafka);
        if (b.stored >= b.end) break;
        // Counted as it stands rather than waited for without end: the report then says how many were left.
        if (Date.now() - drainStart > Number(values["drain-minutes"]) * 60_000) {
          undrained = b.end - b.stored;
          say(`the worker had not caught up after --drain-minutes: ${undrained} messages left on the topic`);
          break;
        }
        await sleep(2000);
      }
      stops.push(await stopServer(server!));
      if (worker) stops.push(await worker.stop());
      worker = undefined;
    } else {
      let stopped = await stopServer(server!);
      stops.push(stopped);
      // A stop that overran SHUTDOWN_TIMEOUT leaves the rest in the spool: the next start replays it.
      while (stopped.code !== 0) {
        server = await startServe(port, env, log, nodeFlags);
        stopped = await stopServer(server);
        stops.push(stopped);
      }
      sql = await openPglite(`pglite://${dataDir}/db`);
    }
    server = undefined;
    clearInterval(sampler);
    drainMs = Date.now() - drainStart;
    say(`drained in ${(drainMs / 1000).toFixed(1)} s; counting`);
    try {
      stored = await storedCounts(sql);
    } finally {
      await sql.close();
    }
  } catch (err) {
    clearInterval(sampler);
    for (const g of generators) g.child.kill();
    await server?.stop();
    await worker?.stop();
    throw err;
  } finally {
    workerLog?.end();
  }
  return summarize({
    config,
    title:
      config === "A"
        ? split
          ? "`slo-scout serve` as receivers + API and worker processes, Postgres 15 + Kafka 4.4 (own instances)"
          : "`slo-scout serve` on Postgres 15 + Kafka 4.4 (each its own instance)"
        : "`slo-scout serve` on embedded defaults (PGlite, in-process bus with the spool)",
    split,
    minutes,
    targets: rates,
    machine: {
      cpus: cpus().length,
      node: `${process.version} ${nodeFlags.join(" ")}`.trim(),
      loadBefore,
      loadAfter: loadavg(),
    },
    ticks,
    done,
    samples,
    cpu: { machineBusySeconds: machineBusy, generatorSeconds: generatorCpu },
    faults,
    loadEndS,
    drainMs,
    stops,
    stored,
    accepted,
    undrained,
    t0,
  });
}

const reports: RunReport[] = [];
for (const config of configs) {
  const report = await runConfig(config);
  reports.push(report);
  writeFileSync(join(out, "report.json"), `${JSON.stringify(reports, null, 2)}\n`);
  writeFileSync(join(out, "report.md"), renderMarkdown(reports));
  await renderPng(report, join(out, `soak-${config}.png`));
  console.log(renderMarkdown([report]));
}
console.log(`report: ${out}/report.md`);
