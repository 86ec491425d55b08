import type { Config } from "../../config.js";
import type { Bus } from "./bus.js";
import { type BusLogger, KafkaBus } from "./kafka.js";
import { MemoryBus } from "./memory.js";

export type BusConfig = Pick<Config, "KAFKA_BROKERS" | "KAFKA_CLIENT_ID" | "INGEST_BUFFER_EVENTS">;

/** Kafka when KAFKA_BROKERS is set, otherwise in-process topics; both buffer INGEST_BUFFER_EVENTS messages. */
export function openBus(config: BusConfig, logger?: BusLogger): Bus {
  const onError = (err: unknown, where: Record<string, unknown>) =>
    logger?.error({ err, ...where }, "bus: a batch failed and will be retried or was skipped");
  if (config.KAFKA_BROKERS && config.KAFKA_BROKERS.length > 0) {
    return new KafkaBus({
      brokers: config.KAFKA_BROKERS,
      clientId: config.KAFKA_CLIENT_ID,
      capacity: config.INGEST_BUFFER_EVENTS,
      onError,
      ...(logger ? { logger } : {}),
    });
  }
  // One process consumes every partition of an in-process bus, one batch at a time: more partitions would
  // add no parallelism, only reorder events across services (and split a trace's spans apart in time).
  return new MemoryBus({ partitions: 1, capacity: config.INGEST_BUFFER_EVENTS, onError });
}
