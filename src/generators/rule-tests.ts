import {
  type BurnRateWindow,
  burnRateWindows,
  distinctWindows,
  type Severity,
} from "../core/alert-windows.js";
import { formatDuration, parseDuration } from "../core/duration.js";
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
import { goFloat } from "./prom-format.js";

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

/** One SLO's part of the test: its scenarios and the alerts each should raise. */
interface Prepared {
  rules: SloRules;
  alertName: string;
  budget: number;
  minEvents?: number;
  expected: Record<Severity, ExpectedAlert | undefined>;
  scenarios: Scenario[];
  firstCheckMs: number;
  laterCheckMs: number;
}

const roundUp = (ms: number) => Math.ceil(ms / INTERVAL_MS) * INTERVAL_MS;

function prepare(rules: SloRules, opts: AlertOptions): Prepared | { note?: string } {
  const alerts = alertsOf(rules);
  if (alerts.length === 0) return {};
  const { slo } = rules;
  if (!rules.sli) return { note: `${slo.id}: no recording rules generated, so no alert tests` };
  const budget = errorBudgetRatio(slo.objective);
  if (!(budget > 0))
    return { note: `${slo.id}: a 100% objective has no error budget to burn, so no alert tests` };
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
  const maxForMs = Math.max(0, ...alerts.map((a) => (a.for ? (parseDuration(a.for) ?? 0) : 0)));
  const minEvents = minEventsFor(slo, opts);
  return {
    rules,
    alertName: alerts[0]!.alert,
    budget,
    minEvents,
    expected,
    scenarios: scenarios(rules, minEvents),
    firstCheckMs: roundUp(rules.windows.pageQuick.shortWindowMs + maxForMs),
    laterCheckMs: roundUp(maxForMs + INTERVAL_MS),
  };
}

const IDLE: Scenario = { name: "idle", burn: new Map() };

/**
 * The rule-test file for a rules file (`rulesFile` as the test will reference it, relative to the test).
 *
 * All SLOs share one promtool test: promtool evaluates every rule of the file for each test, so one test
 * per SLO would cost SLOs x rules. Scenarios run one after another in time slots on a schedule common to
 * all SLOs (shorter scenario lists are padded with idle slots). The first slot is checked at `short window +
 * for`, showing the page fires within the short window of the burn starting; later slots as soon as `for`
 * allows. SLOs sharing an alert name are checked together at each slot.
 */
export function ruleTests(all: SloRules[], rulesFile: string, opts: AlertOptions = {}): RuleTestsResult {
  const notes: string[] = [];
  const parts: Prepared[] = [];
  for (const r of all) {
    const p = prepare(r, opts);
    if ("rules" in p) parts.push(p);
    else if (p.note) notes.push(p.note);
  }
  const file: RuleTestFile = {
    rule_files: [rulesFile],
    evaluation_interval: formatDuration(INTERVAL_MS),
    tests: [],
  };
  if (parts.length === 0) return { file, notes };

  const firstCheckMs = Math.max(...parts.map((p) => p.firstCheckMs));
  const laterCheckMs = Math.max(...parts.map((p) => p.laterCheckMs));
  const count = Math.max(...parts.map((p) => p.scenarios.length));
  const slots = Array.from(
    { length: count },
    (_, i) => (i === 0 ? firstCheckMs : laterCheckMs) + INTERVAL_MS,
  );
  const starts = slots.map((_, i) => slots.slice(0, i).reduce((a, b) => a + b, 0));
  const scenarioAt = (p: Prepared, i: number) => p.scenarios[i] ?? IDLE;
  const series = (p: Prepared, value: (sc: Scenario) => number) =>
    slots.map((len, i) => `${goFloat(value(scenarioAt(p, i)))}+0x${len / INTERVAL_MS - 1}`).join(" ");
  const eventsIn = (p: Prepared, sc: Scenario) => sc.events ?? Math.max((p.minEvents ?? 0) * 2, 1);

  const input: InputSeries[] = [];
  for (const p of parts) {
    const seriesLabels = (ms: number) => mergeLabels(p.rules.labels, { [LABEL.window]: formatDuration(ms) });
    for (const ms of distinctWindows(p.rules.windows)) {
      input.push({
        series: sliErrorMetric(ms) + promFilter(seriesLabels(ms)),
        values: series(p, (sc) => (sc.burn.get(ms) ?? 0) * p.budget),
      });
    }
    if (p.minEvents !== undefined) {
      const longs = [...new Set(burnRateWindows(p.rules.windows).map((w: BurnRateWindow) => w.longWindowMs))];
      for (const ms of longs) {
        input.push({
          series: sliEventsMetric(ms) + promFilter(seriesLabels(ms)),
          values: series(p, (sc) => eventsIn(p, sc)),
        });
      }
    }
  }

  const byAlert = new Map<string, Prepared[]>();
  for (const p of parts) byAlert.set(p.alertName, [...(byAlert.get(p.alertName) ?? []), p]);
  const checks: AlertRuleTest[] = [];
  for (let i = 0; i < count; i++) {
    const evalTime = formatDuration(starts[i]! + (i === 0 ? firstCheckMs : laterCheckMs));
    for (const [alertname, group] of byAlert) {
      const exp: ExpectedAlert[] = [];
      const names = new Set<string>();
      for (const p of group) {
        const sc = scenarioAt(p, i);
        if (sc !== IDLE) names.add(group.length > 1 ? `${p.rules.slo.id}: ${sc.name}` : sc.name);
        const guard =
          p.minEvents !== undefined ? { minEvents: p.minEvents, events: eventsIn(p, sc) } : undefined;
        const fired = expectedSeverities(p.rules, sc.burn, guard);
        for (const sev of ["page", "ticket"] as const) if (fired.has(sev)) exp.push(p.expected[sev]!);
      }
      if (names.size === 0) continue;
      checks.push({ comment: [...names].join(" | "), eval_time: evalTime, alertname, exp_alerts: exp });
    }
  }
  const label = parts.length === 1 ? parts[0]!.rules.slo.id : `${parts.length} SLOs`;
  file.tests.push({
    name: `${label}: multi-window multi-burn-rate alerts`,
    interval: formatDuration(INTERVAL_MS),
    input_series: input,
    alert_rule_test: checks,
  });
  return { file, notes };
}

/** Tests for one SLO, or a note saying why there are none. */
export function sloRuleTests(rules: SloRules, opts: AlertOptions = {}): { tests: RuleTest[]; note?: string } {
  const res = ruleTests([rules], "rules.yml", opts);
  return { tests: res.file.tests, ...(res.notes[0] ? { note: res.notes[0] } : {}) };
}
