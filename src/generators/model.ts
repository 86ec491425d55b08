import type { MwmbWindows } from "../core/alert-windows.js";
import { formatDuration } from "../core/duration.js";
import type { Slo } from "../core/slo.js";

/** Prometheus rule models the generators return; YAML is written from them at the edge (rules-yaml.ts). */

export type Labels = Record<string, string>;

export interface RecordingRule {
  record: string;
  expr: string;
  labels: Labels;
}

export interface AlertingRule {
  alert: string;
  expr: string;
  for?: string;
  labels: Labels;
  annotations: Labels;
}

export type Rule = RecordingRule | AlertingRule;

export interface RuleGroup {
  name: string;
  interval?: string;
  rules: Rule[];
}

export interface RuleFile {
  groups: RuleGroup[];
}

export const isAlertingRule = (r: Rule): r is AlertingRule => "alert" in r;

/** Everything generated for one SLO, with the inputs a later stage (tests, dashboards, runbooks) needs. */
export interface SloRules {
  slo: Slo;
  windows: MwmbWindows;
  /** Labels every recording rule of this SLO carries (ids + spec labels + extra labels), no sloth_window. */
  labels: Labels;
  sli?: RuleGroup;
  meta?: RuleGroup;
  alerts?: RuleGroup;
}

// Sloth's conventions (pkg/common/conventions), so Sloth's dashboards and alert routes keep working.
export const LABEL = {
  id: "sloth_id",
  service: "sloth_service",
  slo: "sloth_slo",
  window: "sloth_window",
  severity: "sloth_severity",
  version: "sloth_version",
  mode: "sloth_mode",
  spec: "sloth_spec",
  objective: "sloth_objective",
} as const;

export const METRIC = {
  objective: "slo:objective:ratio",
  errorBudget: "slo:error_budget:ratio",
  timePeriodDays: "slo:time_period:days",
  currentBurnRate: "slo:current_burn_rate:ratio",
  periodBurnRate: "slo:period_burn_rate:ratio",
  periodBudgetRemaining: "slo:period_error_budget_remaining:ratio",
  info: "sloth_slo_info",
} as const;

export const sliErrorMetric = (windowMs: number) => `slo:sli_error:ratio_rate${formatDuration(windowMs)}`;

/** Events counted in a window, recorded only for the low-traffic guard. */
export const sliEventsMetric = (windowMs: number) => `slo:sli_events:increase${formatDuration(windowMs)}`;

export function sloIdLabels(slo: Pick<Slo, "id" | "service" | "name">): Labels {
  return { [LABEL.id]: slo.id, [LABEL.service]: slo.service, [LABEL.slo]: slo.name };
}

const escapeLabelValue = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

/** `{a="1", b="2"}` with sorted names, as Prometheus' LabelSet.String prints it. */
export function promFilter(labels: Labels): string {
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${k}="${escapeLabelValue(labels[k]!)}"`);
  return `{${parts.join(", ")}}`;
}

/** Later maps win, as Sloth's MergeLabels. */
export function mergeLabels(...maps: (Labels | undefined)[]): Labels {
  const out: Labels = {};
  for (const m of maps) if (m) Object.assign(out, m);
  return out;
}
