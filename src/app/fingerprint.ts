import { fingerprintBatch, type ParsedLine } from "../pipeline/fingerprint/batch.js";
import { createRedactor } from "../pipeline/redact.js";
import type { AppContext } from "./context.js";

/**
 * Log lines → template and fingerprint per line, redacted first (as `slo-scout fingerprint` does), with
 * the configured extra redaction patterns. Nothing is stored.
 */
export function fingerprintLines(
  app: Pick<AppContext, "config">,
  lines: readonly string[],
  opts: { service?: string; raw?: boolean } = {},
): ParsedLine[] {
  const redactor = createRedactor({ extraPatterns: app.config.REDACT_EXTRA_PATTERNS });
  return fingerprintBatch(lines, { raw: opts.raw === true, service: opts.service ?? "default", redactor });
}
