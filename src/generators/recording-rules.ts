import { distinctWindows, type MwmbWindows } from "../core/alert-windows.js";
import { formatDuration } from "../core/duration.js";
import type { Slo } from "../core/slo.js";
import {
  LABEL,
  type Labels,
  METRIC,
  mergeLabels,
  promFilter,
  type RecordingRule,
  sliErrorMetric,
  sliEventsMetric,
  sloIdLabels,
} from "./model.js";
import { goFloat, goFloatPlain } from "./prom-format.js";

/** Sloth's query template variable; any spacing inside the braces is accepted, as Sloth's regex does. */
export const WINDOW_VAR = /\{\{\s*\.window\s*\}\}/g;

export function renderWindow(query: string, windowMs: number): string {
  return query.replace(WINDOW_VAR, formatDuration(windowMs));
}

export interface InfoLabels {
  version: string;
  mode: string;
  spec: string;
}

export interface RecordingOptions {
  /**
   * Derive the period ratio from the 5m rule (`sum_over_time / count_over_time`) instead of a raw
   * `rate(...[30d])`: far cheaper to evaluate, slightly less exact (every 5m slot weighs the same). Sloth's
   * default, so on by default.
   */
  optimized?: boolean;
}

/** Labels shared by every recording rule of the SLO: the ids first, then the SLO labels (which win, as in Sloth). */
export function recordingLabels(slo: Slo, extraLabels: Labels = {}): Labels {
  return mergeLabels(sloIdLabels(slo), slo.labels, extraLabels);
}

function sliExpr(slo: Slo, windowMs: number): string {
  if ("events" in slo.sli) {
    const { errorQuery, totalQuery } = slo.sli.events;
    return `(${renderWindow(errorQuery, windowMs)})\n/\n(${renderWindow(totalQuery, windowMs)})\n`;
  }
  return `(${renderWindow(slo.sli.raw.errorRatioQuery, windowMs)})`;
}

/** The period ratio averaged from the shortest alert window's rule rather than read from raw data. */
function optimizedPeriodExpr(slo: Slo, periodMs: number, shortMs: number): string {
  const metric = sliErrorMetric(shortMs) + promFilter(sloIdLabels(slo));
  const w = formatDuration(periodMs);
  return `sum_over_time(${metric}[${w}])\n/ ignoring (${LABEL.window})\ncount_over_time(${metric}[${w}])\n`;
}

/** SLI error-ratio rules for every alert window plus the SLO period (Sloth's `sli_rules/v1`). */
export function sliRecordingRules(
  slo: Slo,
  windows: MwmbWindows,
  labels: Labels,
  opts: RecordingOptions = {},
): RecordingRule[] {
  const optimized = opts.optimized ?? true;
  const shortest = windows.pageQuick.shortWindowMs;
  const all = [...distinctWindows(windows), windows.periodMs];
  return all.map((w) => ({
    record: sliErrorMetric(w),
    expr:
      w === windows.periodMs && optimized && w !== shortest
        ? optimizedPeriodExpr(slo, w, shortest)
        : sliExpr(slo, w),
    labels: mergeLabels(sloIdLabels(slo), { [LABEL.window]: formatDuration(w) }, labels),
  }));
}

export class LowTrafficGuardError extends Error {
  override name = "LowTrafficGuardError";
}

/**
 * How many events the total query counts in a window. A `rate(...)` query is per second, so it is scaled
 * by the window's seconds; an `increase(...)` or `*_over_time(...)` query already counts events.
 */
export function eventsInWindowExpr(totalQuery: string, windowMs: number): string {
  const rendered = renderWindow(totalQuery, windowMs);
  const isRate = /(^|[^a-z_])rate\s*\(/i.test(totalQuery);
  const isCount = /(^|[^a-z_])(increase|[a-z_]+_over_time)\s*\(/i.test(totalQuery);
  if (isRate && !isCount) return `(${rendered}) * ${windowMs / 1000}`;
  if (isCount && !isRate) return `(${rendered})`;
  throw new LowTrafficGuardError(
    "the low-traffic guard needs a total_query built on rate(...) (events per second) or on increase(...)/sum_over_time(...) (events), not a mix or neither",
  );
}

/** Event counts per long alert window, recorded only when the low-traffic guard is on. */
export function eventRecordingRules(slo: Slo, windows: MwmbWindows, labels: Labels): RecordingRule[] {
  if (!("events" in slo.sli)) {
    throw new LowTrafficGuardError(
      `SLO ${slo.id}: the low-traffic guard (min events) needs an events SLI with a total_query; raw SLIs have no event count`,
    );
  }
  const longs = [
    ...new Set(
      [windows.pageQuick, windows.pageSlow, windows.ticketQuick, windows.ticketSlow].map(
        (p) => p.longWindowMs,
      ),
    ),
  ].sort((a, b) => a - b);
  const total = slo.sli.events.totalQuery;
  return longs.map((w) => ({
    record: sliEventsMetric(w),
    expr: eventsInWindowExpr(total, w),
    labels: mergeLabels(sloIdLabels(slo), { [LABEL.window]: formatDuration(w) }, labels),
  }));
}

function burnRateExpr(sliMetric: string, filter: string): string {
  return `${sliMetric}${filter}\n/ on(${LABEL.id}, ${LABEL.slo}, ${LABEL.service}) group_left\n${METRIC.errorBudget}${filter}\n`;
}

/** Objective, budget, period, burn rates, budget remaining and the info series (Sloth's `metadata_rules/v1`). */
export function metadataRecordingRules(
  slo: Slo,
  windows: MwmbWindows,
  labels: Labels,
  info: InfoLabels,
): RecordingRule[] {
  const ratio = slo.objective / 100;
  const filter = promFilter(sloIdLabels(slo));
  const ruleLabels = mergeLabels(sloIdLabels(slo), labels);
  return [
    { record: METRIC.objective, expr: `vector(${goFloat(ratio)})`, labels: ruleLabels },
    { record: METRIC.errorBudget, expr: `vector(1-${goFloat(ratio)})`, labels: ruleLabels },
    {
      record: METRIC.timePeriodDays,
      expr: `vector(${goFloat(windows.periodMs / 3_600_000 / 24)})`,
      labels: ruleLabels,
    },
    {
      record: METRIC.currentBurnRate,
      expr: burnRateExpr(sliErrorMetric(windows.pageQuick.shortWindowMs), filter),
      labels: ruleLabels,
    },
    {
      record: METRIC.periodBurnRate,
      expr: burnRateExpr(sliErrorMetric(windows.periodMs), filter),
      labels: ruleLabels,
    },
    {
      record: METRIC.periodBudgetRemaining,
      expr: `1 - ${METRIC.periodBurnRate}${filter}`,
      labels: ruleLabels,
    },
    {
      record: METRIC.info,
      expr: "vector(1)",
      labels: mergeLabels(ruleLabels, {
        [LABEL.version]: info.version,
        [LABEL.mode]: info.mode,
        [LABEL.spec]: info.spec,
        [LABEL.objective]: goFloatPlain(slo.objective),
      }),
    },
  ];
}
