/**
 * Log fingerprinting: the public surface. Pure functions and plain-data state; no I/O.
 *
 * - `createFingerprintStage` — TelemetryEvent → CapsuleEvent (redact, mine, hash), for the pipeline.
 * - `Fingerprinter` — streaming miner per service, `toJSON`/`fromJSON` state, alias map old → new.
 * - `fingerprintBatch` — a whole batch labelled with final templates (the `slo-scout fingerprint` CLI).
 * - `fingerprintOf` / `normalizeTemplate` — the fingerprint definition.
 * - `stripHeader`, `messageOf`, `fingerprintMessage`, `maskMessage`, `TemplateMiner` — the parts.
 */
export { type Accuracy, accuracy } from "./accuracy.js";
export { type BatchOptions, fingerprintBatch, type ParsedLine, prepareMessage } from "./batch.js";
export { fingerprintOf, normalizeTemplate } from "./fingerprint.js";
export { Fingerprinter, type FingerprinterState, type FingerprintResult } from "./fingerprinter.js";
export { stripHeader } from "./header.js";
export { maskMessage, maskToken, tokenize, WILDCARD } from "./mask.js";
export { exceptionMessage, fingerprintMessage, messageOf } from "./message.js";
export { DEFAULT_MINER_OPTIONS, type MinerOptions, type MinerState, TemplateMiner } from "./miner.js";
export { createFingerprintStage, type FingerprintStage, type FingerprintStageOptions } from "./stage.js";
