import type { Logger } from "pino";
import type { Config } from "../config.js";
import { parseDuration } from "../core/duration.js";
import type { BlobStore, Sql, VectorStore } from "../store/ports.js";
import type { Bus } from "./bus/bus.js";
import { openEmbedder } from "./embed/open.js";
import { createRedactor } from "./redact.js";
import { type Pipeline, startPipeline } from "./run.js";

/** The stream stage as configured: one place that turns the config into pipeline settings. */
export function startConfiguredPipeline(
  config: Config,
  deps: { bus: Bus; sql: Sql; blobs: BlobStore; vectors?: VectorStore; logger?: Logger },
  options: { importing?: boolean } = {},
): Promise<Pipeline> {
  return startPipeline({
    ...deps,
    ...(deps.vectors ? { embedder: openEmbedder(config) } : {}),
    redact: createRedactor({ extraPatterns: config.REDACT_EXTRA_PATTERNS }),
    // The config admits only durations such as 10m.
    allowedLatenessMs: parseDuration(config.ALLOWED_LATENESS)!,
    // An import of history (slo-scout ingest) lands every event in its window, in whatever order the file
    // holds them; a running server corrects closed windows only within the horizon.
    correctionHorizonMs: options.importing ? Number.POSITIVE_INFINITY : config.CORRECTION_HORIZON,
  });
}
