import { fingerprintOf } from "./fingerprint.js";
import { maskMessage } from "./mask.js";
import { type MinerOptions, TemplateMiner } from "./miner.js";

export interface ParsedLine {
  fingerprint: string;
  template: string;
}

export interface BatchOptions {
  service?: string;
  miner?: Partial<MinerOptions>;
}

/**
 * Parses a whole batch of messages: every line is mined first, then each line gets its cluster's final
 * template, so lines of one kind share one fingerprint even when later variants generalised the template.
 */
export function parseBatch(messages: readonly string[], options: BatchOptions = {}): ParsedLine[] {
  const service = options.service ?? "";
  const miner = new TemplateMiner(options.miner);
  const masked = messages.map(maskMessage);
  const clusters = masked.map((tokens) => miner.add(tokens).cluster);
  const cache = new Map<string, ParsedLine>();
  return masked.map((tokens, i) => {
    const template = miner.templateFor(clusters[i]!, tokens).join(" ");
    let line = cache.get(template);
    if (!line) {
      line = { template, fingerprint: fingerprintOf(service, template) };
      cache.set(template, line);
    }
    return line;
  });
}
