import { parseDuration } from "../../core/duration.js";
import type { Slo } from "../../core/slo.js";
import { renderWindow, WINDOW_VAR } from "../recording-rules.js";
import { promqlErrors } from "./promql.js";

/**
 * Checks an SLO model the way Sloth's validate plugin does (names, objective, period, SLI queries with
 * `{{.window}}` that parse as PromQL, labels, alert names), reporting each problem against a model field so
 * a spec loader can point at the line in the user's file.
 */

export interface SloIssue {
  /** Model field, dotted: `objective`, `sli.events.errorQuery`, `alerting.page.labels.team`, ... */
  field: string;
  message: string;
}

const NAME_RE = /^[A-Za-z0-9][-A-Za-z0-9_.]*[A-Za-z0-9]$/;
const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function checkName(issues: SloIssue[], field: string, value: string) {
  if (!value) issues.push({ field, message: "is required" });
  else if (value.length === 1) {
    // Sloth's name rule needs a first and a last character, so it refuses one-character names.
    issues.push({
      field,
      message: `${JSON.stringify(value)} is too short: a name needs at least 2 characters (as in Sloth)`,
    });
  } else if (!NAME_RE.test(value)) {
    issues.push({
      field,
      message: `${JSON.stringify(value)} must start and end with a letter or digit and hold only letters, digits, '.', '_' and '-'`,
    });
  }
}

function checkQuery(issues: SloIssue[], field: string, query: string) {
  if (!query || query.trim() === "") {
    issues.push({ field, message: "query is required" });
    return;
  }
  if (!new RegExp(WINDOW_VAR.source).test(query)) {
    issues.push({ field, message: "query must contain the {{.window}} variable where the rate window goes" });
    return;
  }
  const rendered = renderWindow(query, 60_000);
  const errors = promqlErrors(rendered);
  if (errors.length > 0) issues.push({ field, message: `is not valid PromQL: ${errors[0]!.message}` });
}

function checkLabels(issues: SloIssue[], field: string, labels: Record<string, string>, kind = "label") {
  for (const [k, v] of Object.entries(labels)) {
    if (kind === "label" && (!LABEL_NAME_RE.test(k) || k === "__name__")) {
      issues.push({
        field: `${field}.${k}`,
        message: `${JSON.stringify(k)} is not a valid Prometheus label name`,
      });
    } else if (kind === "annotation" && k.trim() === "") {
      issues.push({ field: `${field}.${k}`, message: "annotation name is empty" });
    }
    if (typeof v !== "string" || v === "") {
      issues.push({
        field: `${field}.${k}`,
        message: `${kind} ${JSON.stringify(k)} needs a non-empty value`,
      });
    }
  }
}

export function validateSlo(slo: Slo): SloIssue[] {
  const issues: SloIssue[] = [];
  checkName(issues, "service", slo.service);
  checkName(issues, "name", slo.name);
  if (slo.id !== `${slo.service}-${slo.name}`) checkName(issues, "id", slo.id);
  if (
    typeof slo.objective !== "number" ||
    !Number.isFinite(slo.objective) ||
    slo.objective <= 0 ||
    slo.objective > 100
  ) {
    issues.push({
      field: "objective",
      message: `must be > 0 and <= 100 (a percent such as 99.9), got ${JSON.stringify(slo.objective)}`,
    });
  }
  const period = parseDuration(slo.period ?? "");
  if (period === undefined || period <= 0) {
    issues.push({
      field: "period",
      message: `must be a duration such as 30d or 28d, got ${JSON.stringify(slo.period)}`,
    });
  }
  checkLabels(issues, "labels", slo.labels);

  if ("events" in slo.sli) {
    const { errorQuery, totalQuery } = slo.sli.events;
    if (errorQuery === totalQuery) {
      issues.push({ field: "sli.events.errorQuery", message: "error and total queries must differ" });
    }
    checkQuery(issues, "sli.events.errorQuery", errorQuery);
    checkQuery(issues, "sli.events.totalQuery", totalQuery);
  } else if ("raw" in slo.sli) {
    checkQuery(issues, "sli.raw.errorRatioQuery", slo.sli.raw.errorRatioQuery);
  } else {
    issues.push({ field: "sli", message: "needs exactly one SLI type: events or raw" });
  }

  const a = slo.alerting;
  const anyEnabled = !a.page.disable || !a.ticket.disable;
  if (anyEnabled && !a.name) {
    issues.push({
      field: "alerting.name",
      message: "is required unless both page and ticket alerts are disabled",
    });
  }
  checkLabels(issues, "alerting.labels", a.labels);
  checkLabels(issues, "alerting.annotations", a.annotations, "annotation");
  for (const sev of ["page", "ticket"] as const) {
    const spec = a[sev];
    if (spec.disable) continue;
    checkLabels(issues, `alerting.${sev}.labels`, spec.labels);
    checkLabels(issues, `alerting.${sev}.annotations`, spec.annotations, "annotation");
    if (spec.for !== undefined && parseDuration(spec.for) === undefined) {
      issues.push({
        field: `alerting.${sev}.for`,
        message: `must be a duration such as 5m, got ${JSON.stringify(spec.for)}`,
      });
    }
  }
  if (a.minEvents !== undefined) {
    if (!Number.isInteger(a.minEvents) || a.minEvents < 0) {
      issues.push({
        field: "alerting.minEvents",
        message: `must be a whole number >= 0, got ${JSON.stringify(a.minEvents)}`,
      });
    } else if (!("events" in slo.sli)) {
      issues.push({
        field: "alerting.minEvents",
        message: "the low-traffic guard needs an events SLI (it counts total_query events)",
      });
    }
  }
  return issues;
}
