import type { DryRunReport } from "../generators/validate/dry-run.js";
import { ratesPerPeriod } from "../generators/validate/dry-run.js";

/** Pages per service over 28 days from dry-run reports: firings of alerts whose severity is `page`. */
export function pagesPer28d(reports: DryRunReport[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const report of reports) {
    for (const rate of ratesPerPeriod(report)) {
      const l = rate.ruleLabels;
      if ((l.severity ?? l.sloth_severity) !== "page") continue;
      const service = l.sloth_service ?? l.service ?? l.job ?? "(unknown)";
      out[service] = (out[service] ?? 0) + rate.firingsPerPeriod;
    }
  }
  return out;
}
