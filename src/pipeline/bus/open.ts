import { join } from "node:path";
import type { Config } from "../../config.js";
import type { Sql } from "../../store/ports.js";
import { loadOffsets } from "../../store/repos/stream-state.js";
import { PIPELINE_GROUP } from "../run.js";
import { type Bus, TOPICS } from "./bus.js";
import { type BusLogger, KafkaBus } from "./kafka.js";
import { MemoryBus } from "./memory.js";
import { Spool } from "./spool.js";

export type BusConfig = Pick<Config, "KAFKA_BROKERS" | "KAFKA_CLIENT_ID" | "INGEST_BUFFER_EVENTS">;

/**
 * Kafka when KAFKA_BROKERS is set, otherwise in-process topics; both buffer INGEST_BUFFER_EVENTS messages.
 * `maxBacklog`: on Kafka, publishing is refused while the stream stage's backlog on raw-telemetry is over it.
 */
export function openBus(config: BusConfig, logger?: BusLogger, maxBacklog?: number): Bus {
  const onError = (err: unknown, where: Record<string, unknown>) =>
    logger?.error({ err, ...where }, "bus: a batch failed and will be retried or was skipped");
  if (config.KAFKA_BROKERS && config.KAFKA_BROKERS.length > 0) {
    return new KafkaBus({
      brokers: config.KAFKA_BROKERS,
      clientId: config.KAFKA_CLIENT_ID,
      capacity: config.INGEST_BUFFER_EVENTS,
      onError,
      ...(logger ? { logger } : {}),
      ...(maxBacklog
        ? { maxBacklog: { topic: TOPICS.rawTelemetry, group: PIPELINE_GROUP, messages: maxBacklog } }
        : {}),
    });
  }
  // One process consumes every partition of an in-process bus, one batch at a time: more partitions would
  // add no parallelism, only reorder events across services (and split a trace's spans apart in time).
  return new MemoryBus({
    partitions: IN_PROCESS_PARTITIONS,
    capacity: config.INGEST_BUFFER_EVENTS,
    maxBatch: IN_PROCESS_BATCH,
    onError,
  });
}

const IN_PROCESS_PARTITIONS = 1;

/**
 * Most messages the stream stage takes in one batch. Every batch is one transaction of about a dozen
 * statements (offsets, window rows, watermarks, services) whatever its size, and on the embedded PGlite
 * each statement costs about a millisecond of this process's CPU: 500 messages a batch spent half the
 * worker's time on them. A full batch is only handed over when that much is waiting (the bus is behind).
 */
const IN_PROCESS_BATCH = 5_000;

/**
 * The bus of `slo-scout serve`: Kafka (its receivers held back by INGEST_MAX_BACKLOG), or the in-process bus with its write-ahead spool in
 * `<DATA_DIR>/spool` (INGEST_SPOOL=on), which gives the stream stage what a killed process had
 * acknowledged but not stored. Its offsets continue from the stream stage's stored ones, so a deleted
 * spool (or a database written before the spool existed) never makes new messages look already stored.
 */
export async function openServingBus(
  config: BusConfig & Pick<Config, "INGEST_SPOOL" | "DATA_DIR" | "INGEST_MAX_BACKLOG">,
  sql: Sql,
  logger?: BusLogger,
): Promise<Bus> {
  if ((config.KAFKA_BROKERS && config.KAFKA_BROKERS.length > 0) || !config.INGEST_SPOOL) {
    return openBus(config, logger, config.INGEST_MAX_BACKLOG);
  }
  const stored = await loadOffsets(sql, PIPELINE_GROUP, TOPICS.rawTelemetry);
  const startAt = Array.from(
    { length: IN_PROCESS_PARTITIONS },
    (_, p) => stored.find((o) => o.partition === p)?.nextOffset ?? 0,
  );
  const { spool, messages } = await Spool.open(
    join(config.DATA_DIR, "spool"),
    IN_PROCESS_PARTITIONS,
    startAt,
  );
  const unstored = messages.filter((m) => m.offset >= (startAt[m.partition] ?? 0)).length;
  if (messages.length > 0) {
    logger?.info(
      { spooled: messages.length, unstored },
      `ingest spool: replaying ${messages.length} spooled events (${unstored} not stored before the last stop)`,
    );
  }
  return new MemoryBus({
    partitions: IN_PROCESS_PARTITIONS,
    capacity: config.INGEST_BUFFER_EVENTS,
    maxBatch: IN_PROCESS_BATCH,
    onError: (err, where) => logger?.error({ err, ...where }, "bus: a batch failed and will be retried"),
    spooled: { topic: TOPICS.rawTelemetry, spool, messages },
  });
}
