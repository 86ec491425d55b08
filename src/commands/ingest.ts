import { createReadStream, statSync } from "node:fs";
import type { Readable } from "node:stream";
import cliProgress from "cli-progress";
import pino, { type Logger } from "pino";
import { type Config, loadConfig } from "../config.js";
import { alignedNow, createDemoShop } from "../demo/index.js";
import { demoEventCount, loadDemoShop } from "../demo/load.js";
import type { Bus } from "../pipeline/bus/bus.js";
import { openBus } from "../pipeline/bus/open.js";
import { Ingestor } from "../pipeline/receivers/backpressure.js";
import { Feeder, type FeedSummary } from "../pipeline/receivers/feeder.js";
import { noMetrics } from "../pipeline/receivers/metrics.js";
import { decodeOffline, INGEST_FORMATS, type IngestFormat } from "../pipeline/receivers/offline.js";
import type { OtlpSignal } from "../pipeline/receivers/otlp-proto.js";
import type { Pipeline } from "../pipeline/run.js";
import { startConfiguredPipeline } from "../pipeline/worker.js";
import { migrate } from "../store/migrate.js";
import { openBlobs, openSql, openVectors } from "../store/open.js";
import type { BlobStore, Sql, VectorStore } from "../store/ports.js";
import { type Command, parseFlags, UsageError } from "./command.js";

/**
 * `slo-scout ingest`: a file, stdin or the demo shop through the receivers' decoders onto the configured
 * bus, and — when the stream stage is present — on into storage, so a fresh machine has data to analyse.
 */

const USAGE = [
  "Usage: slo-scout ingest <file|-> --format FORMAT [--service NAME] [--signal SIGNAL]",
  "       slo-scout ingest --demo [--days N] [--seed N]",
  "",
  "Feeds telemetry through the same decoders as the HTTP/gRPC receivers, publishes it on the bus",
  "(raw-telemetry) and, with the stream stage, stores it (DATABASE_URL, BLOB_URL): every event lands in",
  "its window whatever its age and order (no CORRECTION_HORIZON), so it imports history. Prints a",
  "summary: records accepted, rejected with reasons.",
  "",
  "Formats:",
  "  otlp-json     OTLP/JSON requests: one document, or one request per line (Collector file exporter)",
  "  otlp-proto    one protobuf Export…ServiceRequest; needs --signal traces|metrics|logs",
  "  remote-write  a Prometheus remote_write WriteRequest (snappy as on the wire, or uncompressed)",
  "  openmetrics   Prometheus OpenMetrics text with a timestamp on every sample (history to import)",
  "  fluentbit     Fluent Bit http output: json array, json_lines or msgpack (detected)",
  "  faro          Grafana Faro payloads: one document or one per line",
  "  text          plain log lines; needs --service",
  "",
  "Options:",
  "  --service NAME   service for records that name none (required for text)",
  "  --signal SIGNAL  traces, metrics or logs (otlp-proto)",
  "  --demo           load the demo shop's telemetry (metrics, traces, logs, RUM) ending this hour",
  "  --days N         demo history in days (default 28)",
  "  --seed N         demo seed (default 42)",
  "",
  "Examples:",
  "  slo-scout ingest traces.jsonl --format otlp-json",
  "  kubectl logs deploy/checkout | slo-scout ingest - --format text --service checkout",
  "  slo-scout ingest --demo --days 28",
].join("\n");

interface Storage {
  sql: Sql;
  blobs: BlobStore;
  vectors: VectorStore;
  pipeline: Pipeline;
}

/**
 * The stream stage's consumers in this process (embedded bus), so what is published is also stored.
 * With Kafka, the pipeline workers of `slo-scout serve` consume and store instead.
 */
async function startStorage(config: Config, bus: Bus, logger: Logger): Promise<Storage> {
  const sql = await openSql(config);
  let blobs: BlobStore | undefined;
  let vectors: VectorStore | undefined;
  try {
    await migrate(sql);
    blobs = await openBlobs(config);
    vectors = await openVectors(config, sql);
    const pipeline = await startConfiguredPipeline(
      config,
      { bus, sql, blobs, vectors, logger },
      { importing: true },
    );
    return { sql, blobs, vectors, pipeline };
  } catch (err) {
    await vectors?.close().catch(() => {});
    await blobs?.close().catch(() => {});
    await sql.close().catch(() => {});
    throw err;
  }
}

function progressBar(total: number, unit: string): cliProgress.SingleBar {
  const bar = new cliProgress.SingleBar(
    {
      format: `ingest |{bar}| {percentage}% {value}/{total} ${unit} | {accepted} accepted, {rejected} rejected | {eta_formatted}`,
      hideCursor: true,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { accepted: 0, rejected: 0 });
  return bar;
}

const OPTIONS = {
  format: { type: "string" },
  service: { type: "string" },
  signal: { type: "string" },
  demo: { type: "boolean" },
  days: { type: "string" },
  seed: { type: "string" },
} as const;

/** Files past this size get a progress bar (on a terminal). */
const PROGRESS_BYTES = 1024 * 1024;

export const command: Command = {
  usage: USAGE,
  async run(args) {
    const { values, positionals } = parseFlags({ args, options: OPTIONS, allowPositionals: true });
    if (values.demo) {
      if (positionals.length > 0 || values.format)
        throw new UsageError("--demo takes no file and no --format");
    } else {
      if (positionals.length !== 1) throw new UsageError("give one file (or - for stdin), or --demo");
      if (!values.format) throw new UsageError(`--format is required (${INGEST_FORMATS.join(", ")})`);
      if (!INGEST_FORMATS.includes(values.format as IngestFormat)) {
        throw new UsageError(`unknown --format ${values.format} (use ${INGEST_FORMATS.join(", ")})`);
      }
      if (values.format === "text" && !values.service)
        throw new UsageError("--format text needs --service NAME");
      if (values.format === "otlp-proto" && !["traces", "metrics", "logs"].includes(values.signal ?? "")) {
        throw new UsageError("--format otlp-proto needs --signal traces, metrics or logs");
      }
    }
    const days = values.days === undefined ? 28 : Number(values.days);
    if (!Number.isInteger(days) || days < 1 || days > 90)
      throw new UsageError("--days must be a whole number 1..90 (e.g. 28)");
    const seed = values.seed === undefined ? 42 : Number(values.seed);
    if (!Number.isInteger(seed)) throw new UsageError("--seed must be a whole number (e.g. 42)");

    // A missing file is reported before any store is opened.
    let size = 0;
    const file = positionals[0];
    if (!values.demo && file !== "-") {
      try {
        size = statSync(file!).size;
      } catch (err) {
        throw new Error(
          `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        );
      }
    }

    const config = loadConfig();
    const logger = pino(
      { level: config.LOG_LEVEL === "info" ? "warn" : config.LOG_LEVEL },
      pino.destination(2),
    );
    const bus = openBus(config, logger);
    const started = Date.now();
    let storage: Storage | undefined;
    try {
      // With Kafka the consumers are other processes (serve's workers); publishing is the whole job there.
      if (!config.KAFKA_BROKERS) storage = await startStorage(config, bus, logger);
      const consumed = storage !== undefined || Boolean(config.KAFKA_BROKERS);
      const ingestor = new Ingestor(bus, {
        bufferEvents: config.INGEST_BUFFER_EVENTS,
        bufferBytes: 4 * config.MAX_BODY_BYTES,
        metrics: noMetrics,
        futureToleranceMs: config.FUTURE_TOLERANCE,
      });
      const interactive = process.stderr.isTTY === true;
      let s: FeedSummary;

      if (values.demo) {
        const shop = createDemoShop({ days, seed, end: alignedNow() });
        const total = demoEventCount(shop);
        process.stderr.write(
          `demo shop: ${days} days to ${new Date(shop.truth.end).toISOString()}, about ${total} events\n`,
        );
        const bar = interactive ? progressBar(total, "events") : undefined;
        s = await loadDemoShop(shop, { ingestor, bus, consumed }, ({ done, summary }) =>
          bar?.update(Math.min(done, bar.getTotal()), {
            accepted: summary.accepted,
            rejected: summary.rejected,
          }),
        );
        bar?.stop();
      } else {
        const feeder = new Feeder(ingestor, bus, `cli-${values.format}`, consumed);
        const input: Readable = file === "-" ? process.stdin : createReadStream(file!);
        const bar = interactive && size > PROGRESS_BYTES ? progressBar(size, "bytes") : undefined;
        let done = 0;
        for await (const chunk of decodeOffline(input, {
          format: values.format as IngestFormat,
          ...(values.service ? { service: values.service } : {}),
          ...(values.signal ? { signal: values.signal as OtlpSignal } : {}),
          fluentBitServiceKey: config.FLUENTBIT_SERVICE_KEY,
          maxBodyBytes: config.MAX_BODY_BYTES,
        })) {
          await feeder.feed(chunk.signal, chunk.result);
          done += chunk.bytes;
          bar?.update(Math.min(done, size), {
            accepted: feeder.summary.accepted,
            rejected: feeder.summary.rejected,
          });
        }
        bar?.stop();
        s = feeder.summary;
      }

      if (storage) await storage.pipeline.drain();
      const secs = (Date.now() - started) / 1000;
      const lines = [
        `accepted ${s.accepted} records, rejected ${s.rejected}; published ${s.published} events to raw-telemetry in ${secs.toFixed(1)} s`,
        ...s.reasons.map((r) => `  rejected: ${r}`),
        storage
          ? `stored by the stream stage in ${storage.sql.engine === "pglite" ? config.DATABASE_URL : "Postgres"}`
          : "published to Kafka; the stream workers of slo-scout serve store it",
      ];
      process.stdout.write(`${lines.join("\n")}\n`);
      return s.accepted === 0 && s.rejected > 0 ? 1 : 0;
    } finally {
      await storage?.pipeline.stop().catch(() => {});
      await bus.close().catch(() => {});
      await storage?.vectors.close().catch(() => {});
      await storage?.blobs.close().catch(() => {});
      await storage?.sql.close().catch(() => {});
    }
  },
};
