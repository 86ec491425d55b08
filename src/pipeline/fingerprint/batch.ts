import type { Redactor } from "../redact.js";
import { fingerprintOf } from "./fingerprint.js";
import { stripHeader } from "./header.js";
import { maskMessage } from "./mask.js";
import { messageOf } from "./message.js";
import { type MinerOptions, TemplateMiner } from "./miner.js";

export interface ParsedLine {
  fingerprint: string;
  template: string;
  /** The message as fingerprinted: header stripped (with `raw`), JSON message field, redacted. */
  message: string;
}

export interface BatchOptions {
  service?: string;
  /** Each line is a whole log line: strip its header first. */
  raw?: boolean;
  /** Applied to every message before mining; templates and samples never see what it removes. */
  redactor?: Redactor;
  miner?: Partial<MinerOptions>;
}

/** What a line is fingerprinted by: header stripped (raw), the JSON message field, redacted. */
export function prepareMessage(line: string, options: Pick<BatchOptions, "raw" | "redactor">): string {
  const body = messageOf(options.raw ? stripHeader(line) : line);
  return options.redactor ? options.redactor(body) : body;
}

/**
 * Fingerprints a whole batch: every line is mined first, then each line gets its cluster's final
 * template, so lines of one kind share one fingerprint even when later variants generalised it.
 */
export function fingerprintBatch(lines: readonly string[], options: BatchOptions = {}): ParsedLine[] {
  const service = options.service ?? "default";
  const miner = new TemplateMiner(options.miner);
  const messages = lines.map((l) => prepareMessage(l, options));
  const masked = messages.map(maskMessage);
  const clusters = masked.map((tokens) => miner.add(tokens).cluster);
  const hashes = new Map<string, string>();
  return masked.map((tokens, i) => {
    const template = miner.templateFor(clusters[i]!, tokens).join(" ");
    let fingerprint = hashes.get(template);
    if (fingerprint === undefined) {
      fingerprint = fingerprintOf(service, template);
      hashes.set(template, fingerprint);
    }
    return { fingerprint, template, message: messages[i]! };
  });
}
