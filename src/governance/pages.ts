import type { DryRunReport } from "../generators/validate/dry-run.js";
import { ratesPerPeriod } from "../generators/validate/dry-run.js";
import { resolveService } from "./rules.js";

/**
 * Pages per service over 28 days from dry-run reports: firings of alerts whose severity is `page`, each
 * counted for the service its labels or expression name (see `resolveService`).
 */
export function pagesPer28d(reports: DryRunReport[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const report of reports) {
    for (const [i, rate] of ratesPerPeriod(report).entries()) {
      const l = rate.ruleLabels;
      // Sloth's own page/ticket split first: its `severity` label is for routing (critical, pageteam, ...).
      if ((l.sloth_severity ?? l.severity) !== "page") continue;
      const expr = report.alerts[i]!.expr;
      const service = resolveService({ labels: l, expr }) ?? "(unknown)";
      out[service] = (out[service] ?? 0) + rate.firingsPerPeriod;
    }
  }
  return out;
}
