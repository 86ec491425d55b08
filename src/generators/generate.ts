import { mwmbWindows, WindowsCatalog } from "../core/alert-windows.js";
import { parseDuration } from "../core/duration.js";
import type { Slo } from "../core/slo.js";
import { type AlertOptions, alertRules } from "./alert-rules.js";
import type { Labels, RuleFile, RuleGroup, SloRules } from "./model.js";
import {
  eventRecordingRules,
  type InfoLabels,
  metadataRecordingRules,
  recordingLabels,
  sliRecordingRules,
} from "./recording-rules.js";

export interface GenerateOptions extends AlertOptions {
  /** Alert windows per SLO period; the built-in Workbook catalog (28d, 30d) by default. */
  catalog?: WindowsCatalog;
  /** Added to every recording rule (Sloth's `--extra-labels`); they win over the spec's labels. */
  extraLabels?: Labels;
  disableRecordings?: boolean;
  disableAlerts?: boolean;
  /** See RecordingOptions.optimized; Sloth's `--disable-optimized-rules` sets it to false. */
  optimized?: boolean;
  /** Goes into `sloth_version` on the info series. */
  version?: string;
}

/** The `sloth_mode` Sloth writes for each input format, so dashboards filtering on it keep working. */
function infoFor(slo: Slo, version: string): InfoLabels {
  const spec = slo.origin?.spec ?? "slo-scout/v1";
  let mode = "slo-scout";
  if (spec === "prometheus/v1") mode = "cli-gen-prom";
  else if (spec.startsWith("openslo/")) mode = "cli-gen-openslo";
  else if (spec === "sloth.slok.dev/v1") mode = "cli-gen-k8s";
  return { version, mode, spec };
}

export function periodMs(slo: Slo): number {
  const ms = parseDuration(slo.period);
  if (ms === undefined || ms <= 0)
    throw new Error(`SLO ${slo.id}: period ${JSON.stringify(slo.period)} is not a duration`);
  return ms;
}

const withInterval = (g: RuleGroup, interval?: string): RuleGroup => (interval ? { ...g, interval } : g);

/** All rules for one SLO: pure, no I/O. */
export function generateSloRules(slo: Slo, opts: GenerateOptions = {}): SloRules {
  const catalog = opts.catalog ?? new WindowsCatalog();
  const windows = mwmbWindows(catalog.get(periodMs(slo)));
  const labels = recordingLabels(slo, opts.extraLabels);
  const out: SloRules = { slo, windows, labels };
  const alerts = opts.disableAlerts ? [] : alertRules(slo, windows, opts);
  if (!opts.disableRecordings) {
    const sli = sliRecordingRules(slo, windows, labels, { optimized: opts.optimized });
    if (alerts.length > 0 && (opts.minEvents ?? slo.alerting.minEvents) !== undefined) {
      sli.push(...eventRecordingRules(slo, windows, labels));
    }
    out.sli = withInterval(
      { name: `sloth-slo-sli-recordings-${slo.id}`, rules: sli },
      slo.ruleIntervals?.sli,
    );
    out.meta = withInterval(
      {
        name: `sloth-slo-meta-recordings-${slo.id}`,
        rules: metadataRecordingRules(slo, windows, labels, infoFor(slo, opts.version ?? "slo-scout")),
      },
      slo.ruleIntervals?.meta,
    );
  }
  if (alerts.length > 0) {
    out.alerts = withInterval(
      { name: `sloth-slo-alerts-${slo.id}`, rules: alerts },
      slo.ruleIntervals?.alerts,
    );
  }
  return out;
}

export class DuplicateSloError extends Error {
  override name = "DuplicateSloError";
}

/** Throws when two SLOs share an id (service + name), naming where each was defined. */
export function assertUniqueSlos(slos: Slo[]): void {
  const seen = new Map<string, Slo>();
  for (const slo of slos) {
    const prev = seen.get(slo.id);
    if (prev) {
      const where = (s: Slo) =>
        s.origin?.file ? ` (${s.origin.file}${s.origin.line ? `:${s.origin.line}` : ""})` : "";
      throw new DuplicateSloError(
        `SLO ${slo.id} is defined twice${where(prev)}${where(slo)}: service + name must be unique`,
      );
    }
    seen.set(slo.id, slo);
  }
}

export function generateAll(slos: Slo[], opts: GenerateOptions = {}): SloRules[] {
  assertUniqueSlos(slos);
  return slos.map((s) => generateSloRules(s, opts));
}

export function ruleGroups(rules: SloRules[]): RuleGroup[] {
  return rules.flatMap((r) => [r.sli, r.meta, r.alerts].filter((g): g is RuleGroup => g !== undefined));
}

export function ruleFile(rules: SloRules[]): RuleFile {
  return { groups: ruleGroups(rules) };
}
