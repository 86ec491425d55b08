import Fastify, { type FastifyInstance } from "fastify";
import { Registry } from "prom-client";
import { ConfigSchema } from "../../../src/config.js";
import type { TelemetryEvent } from "../../../src/core/telemetry.js";
import { TOPICS } from "../../../src/pipeline/bus/bus.js";
import { MemoryBus, type MemoryBusOptions } from "../../../src/pipeline/bus/memory.js";
import { type ReceiverConfig, receiversPlugin } from "../../../src/pipeline/receivers/plugin.js";

/** A Fastify server with only the receivers mounted, a memory bus and a consumer collecting what arrives. */
export interface Harness {
  app: FastifyInstance;
  url: string;
  bus: MemoryBus;
  registry: Registry;
  received: TelemetryEvent[];
  /** Waits until every published event reached the collector. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

export function testConfig(overrides: Record<string, string> = {}): ReceiverConfig {
  return ConfigSchema.parse({ OTLP_GRPC_PORT: "0", HOST: "127.0.0.1", ...overrides });
}

export async function startHarness(
  overrides: Record<string, string> = {},
  busOptions: MemoryBusOptions = {},
  options: { consume?: boolean } = {},
): Promise<Harness> {
  const bus = new MemoryBus(busOptions);
  const registry = new Registry();
  const received: TelemetryEvent[] = [];
  if (options.consume !== false) {
    await bus.subscribe<TelemetryEvent>(TOPICS.rawTelemetry, "test", async (batch) => {
      for (const m of batch.messages) received.push(m.value);
    });
  }
  const app = Fastify({ logger: false });
  await app.register(receiversPlugin, { bus, config: testConfig(overrides), registry });
  const url = await app.listen({ host: "127.0.0.1", port: 0 });
  return {
    app,
    url,
    bus,
    registry,
    received,
    settle: () => bus.flush(),
    close: async () => {
      await app.close();
      await bus.close();
    },
  };
}

/** The value of one ingest counter sample on the registry (0 when absent). */
export async function counter(
  registry: Registry,
  name: string,
  labels: Record<string, string>,
): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return 0;
  const data = await metric.get();
  const hit = data.values.find((v) =>
    Object.entries(labels).every(([k, val]) => String(v.labels[k]) === val),
  );
  return hit ? hit.value : 0;
}

/** A request body for fetch (its types take an ArrayBuffer-backed view, not a Node Buffer). */
export const bodyOf = (b: Buffer | Uint8Array | string): string | Uint8Array<ArrayBuffer> =>
  typeof b === "string" ? b : Uint8Array.from(b);
