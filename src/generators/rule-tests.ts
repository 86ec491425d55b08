import { type AlertOptions, errorBudgetRatio, minEventsFor } from "./alert-rules.js";
import {
  type AlertingRule,
  isAlertingRule,
  LABEL,
  type Labels,
  mergeLabels,
  promFilter,
  type SloRules,
  sliErrorMetric,
  sliEventsMetric,
} from "./model.js";
import { formatDuration, goFloat, parseDuration } from "./prom-format.js";
import { type BurnRateWindow, burnRateWindows, distinctWindows, type Severity } from "./windows.js";

/**
 * `promtool test rules` unit tests generated with the alerts. Each scenario feeds the SLI error-ratio series
 * the alerts read (one per window, at a chosen multiple of the error budget) and states which alerts must
 * fire. The expectations come from the MWMB semantics (both windows of a pair above factor x budget, and the
 * guard when on), evaluated here independently of the PromQL, so a wrong factor, window, matcher or
 * and/or in the alert expressions makes promtool fail.
 */

export interface InputSeries {
  series: string;
  values: string;
}

export interface ExpectedAlert {
  exp_labels: Labels;
  exp_annotations: Labels;
}

export interface AlertRuleTest {
  /** What the check shows; written as a YAML comment (promtool rejects unknown keys). */
  comment?: string;
  eval_time: string;
  alertname: string;
  exp_alerts: ExpectedAlert[];
}

export interface RuleTest {
  name: string;
  interval: string;
  input_series: InputSeries[];
  alert_rule_test: AlertRuleTest[];
}

export interface RuleTestFile {
  rule_files: string[];
  evaluation_interval: string;
  tests: RuleTest[];
}

export interface RuleTestsResult {
  file: RuleTestFile;
  /** SLOs whose tests could not be generated, and why. */
  notes: string[];
}

const INTERVAL_MS = 60_000;

interface Scenario {
  name: string;
  /** Burn multiple (times the error budget) per window; windows not listed are at 0. */
  burn: Map<number, number>;
  /** Events per long window for the low-traffic guard. */
  events?: number;
}

/** Which severities the MWMB rules should fire for a scenario. */
export function expectedSeverities(
  rules: SloRules,
  burn: Map<number, number>,
  guard?: { minEvents: number; events: number },
): Set<Severity> {
  const fired = new Set<Severity>();
  const enabled = { page: !rules.slo.alerting.page.disable, ticket: !rules.slo.alerting.ticket.disable };
  for (const pair of burnRateWindows(rules.windows)) {
    if (!enabled[pair.severity]) continue;
    const above = (ms: number) => (burn.get(ms) ?? 0) > pair.factor;
    const enough = !guard || guard.events >= guard.minEvents;
    if (above(pair.shortWindowMs) && above(pair.longWindowMs) && enough) fired.add(pair.severity);
  }
  return fired;
}

const TEMPLATE = /\{\{\s*(?:\$labels\.|\.Labels\.)([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g;

/** Expands `{{$labels.x}}` as Prometheus would; undefined when the text holds other template actions. */
export function expandAnnotation(text: string, labels: Labels): string | undefined {
  const expanded = text.replace(TEMPLATE, (_m, name: string) => labels[name] ?? "");
  return expanded.includes("{{") ? undefined : expanded;
}

function scenarios(rules: SloRules, minEvents?: number): Scenario[] {
  const w = rules.windows;
  const all = distinctWindows(w);
  const pageFactor = Math.max(w.pageQuick.factor, w.pageSlow.factor);
  // The Workbook's 15x, unless a custom catalog pages only above that; then a clear margin over the factor.
  const high = 15 > pageFactor * 1.02 ? 15 : Math.ceil(pageFactor * 1.1);
  const everywhere = (m: number) => new Map(all.map((ms) => [ms, m]));
  const fmt = formatDuration;
  const out: Scenario[] = [
    {
      name: `burning at ${high}x the error budget pages within the ${fmt(w.pageQuick.shortWindowMs)} short window`,
      burn: everywhere(high),
    },
    { name: "burning at 0.5x the error budget does not alert", burn: everywhere(0.5) },
    {
      name: `a ${fmt(w.pageQuick.shortWindowMs)} spike at ${high}x alone does not page (the ${fmt(w.pageQuick.longWindowMs)} window must agree)`,
      burn: new Map([[w.pageQuick.shortWindowMs, high]]),
    },
    {
      name: `a ${fmt(w.pageQuick.longWindowMs)} burn at ${high}x that has stopped (${fmt(w.pageQuick.shortWindowMs)} at 0) does not page`,
      burn: new Map([[w.pageQuick.longWindowMs, high]]),
    },
  ];
  for (const pair of burnRateWindows(w)) {
    for (const [mult, word] of [
      [1.02, "just above"],
      [0.98, "just below"],
    ] as const) {
      out.push({
        name: `${pair.severity} ${pair.speed} pair (${fmt(pair.shortWindowMs)}/${fmt(pair.longWindowMs)}) ${word} its ${goFloat(Number(pair.factor.toFixed(4)))}x factor`,
        burn: new Map([
          [pair.shortWindowMs, pair.factor * mult],
          [pair.longWindowMs, pair.factor * mult],
        ]),
      });
    }
  }
  if (minEvents !== undefined && minEvents > 0) {
    out.push({
      name: `burning at ${high}x with only ${minEvents - 1} events in the long window does not alert (low-traffic guard)`,
      burn: everywhere(high),
      events: minEvents - 1,
    });
  }
  return out;
}

const sortedLabels = (l: Labels): Labels =>
  Object.fromEntries(Object.entries(l).sort(([a], [b]) => (a < b ? -1 : 1)));

function alertsOf(rules: SloRules): AlertingRule[] {
  return (rules.alerts?.rules ?? []).filter(isAlertingRule);
}

function severityOf(rule: AlertingRule): Severity {
  return rule.labels[LABEL.severity] === "ticket" ? "ticket" : "page";
}

/** Tests for one SLO, or a note saying why there are none. */
export function sloRuleTests(rules: SloRules, opts: AlertOptions = {}): { tests: RuleTest[]; note?: string } {
  const alerts = alertsOf(rules);
  if (alerts.length === 0) return { tests: [] };
  const { slo } = rules;
  if (!rules.sli) return { tests: [], note: `${slo.id}: no recording rules generated, so no alert tests` };
  const budget = errorBudgetRatio(slo.objective);
  if (!(budget > 0))
    return { tests: [], note: `${slo.id}: a 100% objective has no error budget to burn, so no alert tests` };
  const alertName = alerts[0]!.alert;
  const minEvents = minEventsFor(slo, opts);
  const seriesLabels = (ms: number) => mergeLabels(rules.labels, { [LABEL.window]: formatDuration(ms) });
  const alertLabels = { ...rules.labels };
  delete alertLabels[LABEL.window];

  const expected: Record<Severity, ExpectedAlert | undefined> = { page: undefined, ticket: undefined };
  for (const rule of alerts) {
    const labels = mergeLabels(alertLabels, rule.labels);
    const annotations: Labels = {};
    for (const [k, v] of Object.entries(rule.annotations)) {
      const expanded = expandAnnotation(v, { ...labels, alertname: rule.alert });
      if (expanded === undefined) {
        return {
          tests: [],
          note: `${slo.id}: annotation ${k} uses template actions the test cannot predict, so no alert tests`,
        };
      }
      annotations[k] = expanded;
    }
    expected[severityOf(rule)] = {
      exp_labels: sortedLabels(labels),
      exp_annotations: sortedLabels(annotations),
    };
  }

  // Scenarios run one after another in time slots within a single test (one TSDB per SLO keeps promtool
  // fast). The first slot checks at `short window + for`, showing the page fires within the short window
  // of the burn starting; later slots check as soon as `for` allows.
  const maxForMs = Math.max(0, ...alerts.map((a) => (a.for ? (parseDuration(a.for) ?? 0) : 0)));
  const roundUp = (ms: number) => Math.ceil(ms / INTERVAL_MS) * INTERVAL_MS;
  const firstCheckMs = roundUp(rules.windows.pageQuick.shortWindowMs + maxForMs);
  const laterCheckMs = roundUp(maxForMs + INTERVAL_MS);
  const windows = distinctWindows(rules.windows);
  const longs = [...new Set(burnRateWindows(rules.windows).map((p: BurnRateWindow) => p.longWindowMs))];
  const list = scenarios(rules, minEvents);
  const slots = list.map((_, i) => (i === 0 ? firstCheckMs : laterCheckMs) + INTERVAL_MS);
  const starts = slots.map((_, i) => slots.slice(0, i).reduce((a, b) => a + b, 0));
  const series = (value: (sc: Scenario) => number) =>
    list.map((sc, i) => `${goFloat(value(sc))}+0x${slots[i]! / INTERVAL_MS - 1}`).join(" ");

  const input: InputSeries[] = windows.map((ms) => ({
    series: sliErrorMetric(ms) + promFilter(seriesLabels(ms)),
    values: series((sc) => (sc.burn.get(ms) ?? 0) * budget),
  }));
  const eventsIn = (sc: Scenario) => sc.events ?? Math.max((minEvents ?? 0) * 2, 1);
  if (minEvents !== undefined) {
    for (const ms of longs) {
      input.push({ series: sliEventsMetric(ms) + promFilter(seriesLabels(ms)), values: series(eventsIn) });
    }
  }
  const checks = list.map((sc, i): AlertRuleTest => {
    const guard = minEvents !== undefined ? { minEvents, events: eventsIn(sc) } : undefined;
    const fired = expectedSeverities(rules, sc.burn, guard);
    return {
      comment: sc.name,
      eval_time: formatDuration(starts[i]! + (i === 0 ? firstCheckMs : laterCheckMs)),
      alertname: alertName,
      exp_alerts: (["page", "ticket"] as const).filter((s) => fired.has(s)).map((s) => expected[s]!),
    };
  });
  return {
    tests: [
      {
        name: `${slo.id}: multi-window multi-burn-rate alerts`,
        interval: formatDuration(INTERVAL_MS),
        input_series: input,
        alert_rule_test: checks,
      },
    ],
  };
}

/** The rule-test file for a rules file (`rulesFile` as the test will reference it, relative to the test). */
export function ruleTests(all: SloRules[], rulesFile: string, opts: AlertOptions = {}): RuleTestsResult {
  const tests: RuleTest[] = [];
  const notes: string[] = [];
  for (const r of all) {
    const res = sloRuleTests(r, opts);
    tests.push(...res.tests);
    if (res.note) notes.push(res.note);
  }
  return {
    file: { rule_files: [rulesFile], evaluation_interval: formatDuration(INTERVAL_MS), tests },
    notes,
  };
}
