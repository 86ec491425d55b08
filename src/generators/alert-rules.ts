import type { BurnRateWindow, MwmbWindows, Severity } from "../core/alert-windows.js";
import type { AlertSpec, Slo } from "../core/slo.js";
import {
  type AlertingRule,
  LABEL,
  type Labels,
  mergeLabels,
  promFilter,
  sliErrorMetric,
  sliEventsMetric,
  sloIdLabels,
} from "./model.js";
import { goFloat } from "./prom-format.js";

export interface AlertOptions {
  /**
   * Low-traffic guard: a window pair only alerts when its long window holds at least this many events.
   * Overrides the SLO's own `alerting.minEvents`. Off by default so the output stays Sloth's.
   */
  minEvents?: number;
  /**
   * Annotations added to every alert (e.g. runbook_url, dashboard); the spec's own annotations win.
   * `{service}`, `{slo}` and `{id}` are replaced by the SLO's values.
   */
  annotations?: Labels;
}

/** The error budget as a ratio, computed as Sloth does ((100 - objective) / 100) so the float matches. */
export function errorBudgetRatio(objective: number): number {
  return (100 - objective) / 100;
}

function condition(slo: Slo, windowMs: number, factor: number, budget: number): string {
  const metric = sliErrorMetric(windowMs) + promFilter(sloIdLabels(slo));
  return `max(${metric} > (${goFloat(factor)} * ${goFloat(budget)})) without (${LABEL.window})`;
}

function guard(slo: Slo, longMs: number, minEvents: number): string {
  const metric = sliEventsMetric(longMs) + promFilter(sloIdLabels(slo));
  return `max(${metric} >= ${minEvents}) without (${LABEL.window})`;
}

function pairExpr(slo: Slo, w: BurnRateWindow, budget: number, minEvents?: number): string {
  const lines = [
    "(",
    `    ${condition(slo, w.shortWindowMs, w.factor, budget)}`,
    "    and",
    `    ${condition(slo, w.longWindowMs, w.factor, budget)}`,
  ];
  if (minEvents !== undefined) {
    lines.push(
      `    and on(${LABEL.id}, ${LABEL.service}, ${LABEL.slo})`,
      `    ${guard(slo, w.longWindowMs, minEvents)}`,
    );
  }
  lines.push(")");
  return lines.join("\n");
}

/** `(quick short and quick long) or (slow short and slow long)`, Sloth's MWMB alert expression. */
export function mwmbAlertExpr(
  slo: Slo,
  quick: BurnRateWindow,
  slow: BurnRateWindow,
  minEvents?: number,
): string {
  const budget = errorBudgetRatio(slo.objective);
  return `${pairExpr(slo, quick, budget, minEvents)}\nor\n${pairExpr(slo, slow, budget, minEvents)}\n`;
}

function defaultAnnotations(severity: Severity): Labels {
  return {
    title: `(${severity}) {{$labels.${LABEL.service}}} {{$labels.${LABEL.slo}}} SLO error budget burn rate is too fast.`,
    summary: `{{$labels.${LABEL.service}}} {{$labels.${LABEL.slo}}} SLO error budget burn rate is over expected.`,
  };
}

function fillPlaceholders(slo: Slo, annotations: Labels = {}): Labels {
  const out: Labels = {};
  for (const [k, v] of Object.entries(annotations)) {
    out[k] = v.replaceAll("{service}", slo.service).replaceAll("{slo}", slo.name).replaceAll("{id}", slo.id);
  }
  return out;
}

/** The effective minimum event count for an SLO, if the guard is on. */
export function minEventsFor(slo: Slo, opts: AlertOptions = {}): number | undefined {
  return opts.minEvents ?? slo.alerting.minEvents;
}

/** Page and ticket alerts (Sloth's `alert_rules/v1`); a disabled one is left out. */
export function alertRules(slo: Slo, windows: MwmbWindows, opts: AlertOptions = {}): AlertingRule[] {
  const minEvents = minEventsFor(slo, opts);
  const out: AlertingRule[] = [];
  const make = (severity: Severity, spec: AlertSpec, quick: BurnRateWindow, slow: BurnRateWindow) => {
    if (spec.disable) return;
    const rule: AlertingRule = {
      alert: slo.alerting.name ?? "",
      expr: mwmbAlertExpr(slo, quick, slow, minEvents),
      labels: mergeLabels({ [LABEL.severity]: severity }, slo.alerting.labels, spec.labels),
      annotations: mergeLabels(
        defaultAnnotations(severity),
        fillPlaceholders(slo, opts.annotations),
        slo.alerting.annotations,
        spec.annotations,
      ),
    };
    if (spec.for) rule.for = spec.for;
    out.push(rule);
  };
  make("page", slo.alerting.page, windows.pageQuick, windows.pageSlow);
  make("ticket", slo.alerting.ticket, windows.ticketQuick, windows.ticketSlow);
  return out;
}
