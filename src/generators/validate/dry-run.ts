import { z } from "zod";
import { formatDuration, parseDuration } from "../../core/duration.js";
import { PrometheusQuerier } from "../../history/prometheus-querier.js";
import { PrometheusHistory, type PrometheusReadMode } from "../../history/remote-read-source.js";
import { type Expr, walk } from "../../promql/ast.js";
import { Evaluator } from "../../promql/evaluate.js";
import { parsePromql } from "../../promql/parse.js";
import { CachingSource, MemorySource, OverlaySource } from "../../promql/sources.js";
import {
  type EvalOptions,
  type Labels,
  labelsKey,
  matches,
  type RangeQuerier,
  type RangeResult,
  type SeriesSource,
} from "../../promql/types.js";

/**
 * Dry-run: replays generated rules over history and reports, per alert rule, when it would have fired.
 *
 * Embedded mode evaluates everything from stored samples: recording rules first, in dependency order, on
 * the grid their group would have run on (each result is written back as series, with staleness markers
 * where a series disappears, as Prometheus's rule manager does), then the alert expressions. Prometheus
 * mode asks a Prometheus's `query_range` for each alert expression. The rules under test are usually not
 * deployed there yet, so by default their recording-rule references are expanded inline (see
 * `expandRecordingRules`); `recordingRules: "remote"` queries the expression as written, for a Prometheus
 * that already records them (or was backfilled with `promtool tsdb create-blocks-from rules`).
 * Both modes apply `for` / `keep_firing_for` the same way, on the group's evaluation grid.
 *
 * Limits, by design: the replay starts at `startMs` rounded up to the group interval, so every grid is
 * aligned to multiples of its interval (what Prometheus's subqueries use, which makes inline expansion
 * exact); a real Prometheus evaluates each group at a hash-derived offset inside the interval, so its
 * alerts (and rules backfilled by promtool) can lag this replay by up to one evaluation. Templates in
 * rule labels (`{{ $labels.x }}`) are not expanded. A recorded series read by a group with a different
 * interval than its producer's is taken at the producer's evaluation times.
 */

/** A Prometheus duration (`for`, `keep_firing_for`, a group's `interval`), read as milliseconds. */
const DurationSchema = z.string().transform((text, ctx) => {
  const ms = parseDuration(text);
  if (ms === undefined) {
    ctx.addIssue({ code: "custom", message: `invalid duration ${JSON.stringify(text)}` });
    return z.NEVER;
  }
  return ms;
});

const RuleSchema = z
  .object({
    record: z.string().min(1).optional(),
    alert: z.string().min(1).optional(),
    expr: z.union([z.string().min(1), z.number()]).transform(String),
    for: DurationSchema.optional(),
    keep_firing_for: DurationSchema.optional(),
    labels: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).optional(),
    annotations: z.record(z.string(), z.unknown()).optional(),
  })
  .refine((r) => (r.record === undefined) !== (r.alert === undefined), {
    message: "a rule needs exactly one of `record` or `alert`",
  });

const RuleFileSchema = z.object({
  groups: z.array(
    z.object({
      name: z.string().min(1),
      interval: DurationSchema.optional(),
      rules: z.array(RuleSchema),
    }),
  ),
});

/** A Prometheus rule file as parsed from YAML. */
export type RuleFile = z.input<typeof RuleFileSchema>;

export interface FiringInterval {
  /** First evaluation at which the alert was firing (ms). */
  start: number;
  /** First evaluation at which it no longer was; for an alert still firing at the end, the end of the replay. */
  end: number;
  /** True when the alert was still firing when the replay ended. */
  open: boolean;
  /** The alert instance's labels (expression labels, then the rule's labels, then `alertname`). */
  labels: Labels;
}

export interface AlertReport {
  group: string;
  alert: string;
  /** The rule's own labels (e.g. severity), which tell apart rules sharing an alert name. */
  ruleLabels: Record<string, string>;
  expr: string;
  /** What was actually evaluated (differs from `expr` when recording rules were expanded inline). */
  evaluatedExpr: string;
  forMs: number;
  /** How many times it would have started firing. */
  firings: number;
  /** Total firing time over all instances (ms). */
  firingMs: number;
  intervals: FiringInterval[];
}

export type { RangeQuerier };

export interface DryRunReport {
  mode: "embedded" | "prometheus";
  /** The replayed range: `start` rounded up to the evaluation grid, in ms. */
  start: number;
  end: number;
  alerts: AlertReport[];
}

export interface DryRunOptions {
  startMs: number;
  endMs: number;
  /** Evaluation interval of groups that set none (Prometheus's global `evaluation_interval`, default 1m). */
  defaultIntervalMs?: number;
  /** Only replay these alert names. */
  alerts?: string[];
}

export interface PrometheusDryRunOptions extends DryRunOptions {
  /**
   * "inline" (default): expand references to the file's recording rules into their expressions, so a
   * Prometheus that does not run these rules yet answers correctly. "remote": query as written.
   */
  recordingRules?: "inline" | "remote";
}

interface ParsedRule {
  index: number;
  group: string;
  intervalMs: number;
  record?: string;
  alert?: string;
  exprText: string;
  expr: Expr;
  forMs: number;
  keepFiringForMs: number;
  labels: Record<string, string>;
}

/** Validates a parsed rule file and parses every expression; errors name the group and rule. */
export function parseRuleFile(input: unknown, defaultIntervalMs = 60_000): ParsedRule[] {
  const parsed = RuleFileSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`invalid rule file at ${issue?.path.join(".") || "(root)"}: ${issue?.message}`);
  }
  const out: ParsedRule[] = [];
  for (const g of parsed.data.groups) {
    const intervalMs = g.interval ?? defaultIntervalMs;
    if (!(intervalMs > 0)) throw new Error(`group ${g.name}: interval must be positive`);
    for (const r of g.rules) {
      const name = r.record ?? r.alert ?? "";
      let expr: Expr;
      try {
        expr = parsePromql(r.expr);
      } catch (err) {
        throw new Error(`group ${g.name}, rule ${name}: ${(err as Error).message}`);
      }
      out.push({
        index: out.length,
        group: g.name,
        intervalMs,
        record: r.record,
        alert: r.alert,
        exprText: r.expr,
        expr,
        forMs: r.for ?? 0,
        keepFiringForMs: r.keep_firing_for ?? 0,
        labels: r.labels ?? {},
      });
    }
  }
  return out;
}

/**
 * How far back (ms) evaluating `expr` at time T reads series named `name`; -Infinity when it does not.
 * `lookbackMs` is the instant-selector lookback, `subqueryStepMs` the default subquery step.
 */
function lookbehind(expr: Expr, name: string, lookbackMs: number, subqueryStepMs: number, acc = 0): number {
  switch (expr.type) {
    case "vector":
      return expr.name === name ? acc + expr.offsetMs + lookbackMs : Number.NEGATIVE_INFINITY;
    case "matrix":
      return expr.selector.name === name ? acc + expr.offsetMs + expr.rangeMs : Number.NEGATIVE_INFINITY;
    case "subquery":
      return lookbehind(
        expr.expr,
        name,
        lookbackMs,
        subqueryStepMs,
        acc + expr.offsetMs + expr.rangeMs + (expr.stepMs ?? subqueryStepMs),
      );
    case "aggregate":
    case "unary":
    case "paren":
      return lookbehind(expr.expr, name, lookbackMs, subqueryStepMs, acc);
    case "binary":
      return Math.max(
        lookbehind(expr.lhs, name, lookbackMs, subqueryStepMs, acc),
        lookbehind(expr.rhs, name, lookbackMs, subqueryStepMs, acc),
      );
    case "call":
      return Math.max(
        Number.NEGATIVE_INFINITY,
        ...expr.args.map((a) => lookbehind(a, name, lookbackMs, subqueryStepMs, acc)),
      );
    default:
      return Number.NEGATIVE_INFINITY;
  }
}

function referencedNames(expr: Expr): Set<string> {
  const names = new Set<string>();
  walk(expr, (n) => {
    if (n.type === "vector") names.add(n.name);
  });
  return names;
}

/** Recording rules in an order where every rule comes after the rules whose output it reads. */
function dependencyOrder(rules: ParsedRule[]): ParsedRule[] {
  const producers = new Map<string, ParsedRule[]>();
  for (const r of rules) if (r.record) producers.set(r.record, [...(producers.get(r.record) ?? []), r]);
  const ordered: ParsedRule[] = [];
  const state = new Map<number, "visiting" | "done">();
  const visit = (r: ParsedRule, path: string[]) => {
    const s = state.get(r.index);
    if (s === "done") return;
    if (s === "visiting")
      throw new Error(`recording rules depend on each other in a cycle: ${[...path, r.record].join(" -> ")}`);
    state.set(r.index, "visiting");
    for (const name of referencedNames(r.expr)) {
      for (const p of producers.get(name) ?? []) if (p !== r) visit(p, [...path, r.record ?? r.alert ?? ""]);
    }
    state.set(r.index, "done");
    ordered.push(r);
  };
  for (const r of rules) if (r.record) visit(r, []);
  return ordered;
}

function alignUp(t: number, step: number): number {
  return Math.ceil(t / step) * step;
}

function withRuleLabels(
  labels: Labels,
  ruleLabels: Record<string, string>,
  extra: Record<string, string> = {},
): Labels {
  const out: Record<string, string> = { ...labels };
  for (const [k, v] of Object.entries({ ...ruleLabels, ...extra })) {
    if (v === "") delete out[k];
    else out[k] = v;
  }
  return out;
}

/**
 * Applies an alert rule's `for` and `keep_firing_for` to the expression's result on its evaluation grid,
 * following Prometheus's alerting state machine (pending until active for `for`, then firing).
 */
export function firingIntervals(
  result: RangeResult,
  rule: { alert: string; labels: Record<string, string>; forMs: number; keepFiringForMs?: number },
  stepMs: number,
): FiringInterval[] {
  const ts = result.timestamps;
  const n = ts.length;
  // Instances: the expression's labels without __name__, then the rule's labels, then alertname.
  const instances = new Map<string, { labels: Labels; active: Uint8Array }>();
  for (const s of result.series) {
    const { __name__: _, ...rest } = s.labels;
    const labels = withRuleLabels(rest, rule.labels, { alertname: rule.alert });
    const key = labelsKey(labels);
    let inst = instances.get(key);
    if (!inst) {
      inst = { labels, active: new Uint8Array(n) };
      instances.set(key, inst);
    }
    for (let k = 0; k < n; k++) if (s.present[k]) inst.active[k] = 1;
  }
  const out: FiringInterval[] = [];
  const keep = rule.keepFiringForMs ?? 0;
  for (const { labels, active } of instances.values()) {
    let activeAt: number | undefined;
    let firingSince: number | undefined;
    let keepFiringSince: number | undefined;
    for (let k = 0; k < n; k++) {
      const t = ts[k]!;
      if (active[k]) {
        keepFiringSince = undefined;
        activeAt ??= t;
        if (firingSince === undefined && t - activeAt >= rule.forMs) firingSince = t;
        continue;
      }
      if (firingSince !== undefined && keep > 0) {
        keepFiringSince ??= t;
        if (t - keepFiringSince < keep) continue;
      }
      if (firingSince !== undefined) out.push({ start: firingSince, end: t, open: false, labels });
      activeAt = undefined;
      firingSince = undefined;
      keepFiringSince = undefined;
    }
    if (firingSince !== undefined)
      out.push({ start: firingSince, end: ts[n - 1]! + stepMs, open: true, labels });
  }
  return out.sort((a, b) => a.start - b.start || (labelsKey(a.labels) < labelsKey(b.labels) ? -1 : 1));
}

function report(rule: ParsedRule, evaluatedExpr: string, result: RangeResult): AlertReport {
  const intervals = firingIntervals(
    result,
    { alert: rule.alert!, labels: rule.labels, forMs: rule.forMs, keepFiringForMs: rule.keepFiringForMs },
    rule.intervalMs,
  );
  return {
    group: rule.group,
    alert: rule.alert!,
    ruleLabels: rule.labels,
    expr: rule.exprText,
    evaluatedExpr,
    forMs: rule.forMs,
    firings: intervals.length,
    firingMs: intervals.reduce((sum, i) => sum + (i.end - i.start), 0),
    intervals,
  };
}

function selectedAlerts(rules: ParsedRule[], only?: string[]): ParsedRule[] {
  const alerts = rules.filter((r) => r.alert && (!only || only.includes(r.alert)));
  if (only) {
    const missing = only.filter((a) => !alerts.some((r) => r.alert === a));
    if (missing.length) throw new Error(`no alert rule named ${missing.join(", ")} in the rule file`);
  }
  return alerts;
}

/** Replays `rules` over the samples of `source` (embedded mode). */
export async function dryRunEmbedded(
  ruleFile: unknown,
  source: SeriesSource,
  options: DryRunOptions & EvalOptions,
): Promise<DryRunReport> {
  const rules = parseRuleFile(ruleFile, options.defaultIntervalMs);
  const alerts = selectedAlerts(rules, options.alerts);
  const lookbackMs = options.lookbackDeltaMs ?? 300_000;
  const subqueryStepMs = options.subqueryStepMs ?? 60_000;
  const overlay = new MemorySource();
  // Samples in memory are sliced without copying; any other source is read once per selector.
  const base = source instanceof MemorySource ? source : new CachingSource(source);
  const evaluator = new Evaluator(new OverlaySource(base, overlay), options);
  const gridStart = (r: ParsedRule) => alignUp(options.startMs, r.intervalMs);

  // From how early each recording rule's output is needed: consumers first, walking dependencies back.
  const recording = dependencyOrder(rules);
  const needFrom = new Map<number, number>();
  for (const a of alerts) needFrom.set(a.index, gridStart(a));
  for (const consumer of [...alerts, ...[...recording].reverse()]) {
    const from = needFrom.get(consumer.index);
    if (from === undefined) continue;
    for (const producer of recording) {
      if (producer === consumer) continue;
      const back = lookbehind(consumer.expr, producer.record!, lookbackMs, subqueryStepMs);
      if (back === Number.NEGATIVE_INFINITY) continue;
      needFrom.set(
        producer.index,
        Math.min(needFrom.get(producer.index) ?? Number.POSITIVE_INFINITY, from - back),
      );
    }
  }

  for (const r of recording) {
    const from = needFrom.get(r.index);
    if (from === undefined) continue;
    // The rule's grid keeps the alert grid's phase: start - k * interval.
    const start = gridStart(r) - Math.ceil((gridStart(r) - from) / r.intervalMs) * r.intervalMs;
    let result: RangeResult;
    try {
      result = await evaluator.queryRange(r.expr, start, options.endMs, r.intervalMs);
    } catch (err) {
      throw new Error(`recording rule ${r.record} (group ${r.group}): ${(err as Error).message}`);
    }
    overlay.addResult({
      timestamps: result.timestamps,
      series: result.series.map((s) => ({
        ...s,
        labels: withRuleLabels(s.labels, r.labels, { __name__: r.record! }),
      })),
    });
  }

  const reports: AlertReport[] = [];
  for (const a of alerts) {
    let result: RangeResult;
    try {
      result = await evaluator.queryRange(a.expr, gridStart(a), options.endMs, a.intervalMs);
    } catch (err) {
      throw new Error(`alert ${a.alert} (group ${a.group}): ${(err as Error).message}`);
    }
    reports.push(report(a, a.exprText, result));
  }
  return {
    mode: "embedded",
    start: alignUp(options.startMs, alerts[0]?.intervalMs ?? 1),
    end: options.endMs,
    alerts: reports,
  };
}

function promqlString(s: string): string {
  return JSON.stringify(s);
}

/**
 * Rewrites `exprText` so that every reference to a recording rule of `ruleFile` becomes that rule's
 * expression, with the rule's labels and name put back by `label_replace`: an instant reference
 * `name{…}` becomes `(expansion)`, a range reference `name{…}[30d]` becomes the subquery
 * `(expansion)[30d:<rule interval>]` — what a Prometheus running the rules at that interval would have
 * stored, provided the replay grid is aligned to the interval (dry-run aligns it). Rules whose labels
 * contradict the reference's matchers are left out; a matcher on a label the rule does not set cannot
 * be checked statically and is refused with an error.
 */
export function expandRecordingRules(
  exprText: string,
  ruleFile: unknown,
  defaultIntervalMs = 60_000,
): string {
  const rules = parseRuleFile(ruleFile, defaultIntervalMs);
  const producers = new Map<string, ParsedRule[]>();
  for (const r of rules) if (r.record) producers.set(r.record, [...(producers.get(r.record) ?? []), r]);
  const expand = (text: string, stack: string[]): string => {
    const expr = parsePromql(text);
    const edits: { from: number; to: number; text: string }[] = [];
    const inMatrix = new Set<Expr>();
    walk(expr, (node) => {
      const sel = node.type === "matrix" ? node.selector : node.type === "vector" ? node : undefined;
      if (!sel || inMatrix.has(node)) return;
      if (node.type === "matrix") inMatrix.add(node.selector);
      const candidates = producers.get(sel.name);
      if (!candidates) return;
      if (stack.includes(sel.name)) throw new Error(`recording rule ${sel.name} refers to itself`);
      const chosen = candidates.filter((r) =>
        sel.matchers.every((m) => {
          const fixed = r.labels[m.name];
          if (fixed === undefined) {
            throw new Error(
              `cannot expand ${sel.name} inline: its matcher on ${m.name} is not fixed by the rule's labels; use recordingRules: "remote" against a Prometheus that records it`,
            );
          }
          return matches({ [m.name]: fixed }, m);
        }),
      );
      if (chosen.length === 0) return;
      const parts = chosen.map((r) => {
        let inner = `(${expand(r.exprText, [...stack, sel.name])})`;
        for (const [k, v] of Object.entries({ __name__: r.record!, ...r.labels })) {
          inner = `label_replace(${inner}, ${promqlString(k)}, ${promqlString(v)}, "", "")`;
        }
        return inner;
      });
      const joined = parts.length === 1 ? parts[0]! : parts.map((p) => `(${p})`).join(" or ");
      if (node.type === "matrix") {
        const offset = node.offsetMs ? ` offset ${formatDuration(node.offsetMs)}` : "";
        const step = formatDuration(chosen[0]!.intervalMs);
        edits.push({
          from: node.span.from,
          to: node.span.to,
          text: `(${joined})[${formatDuration(node.rangeMs)}:${step}]${offset}`,
        });
      } else {
        if (sel.offsetMs)
          throw new Error(
            `cannot expand ${sel.name} inline under an offset; use a range or recordingRules: "remote"`,
          );
        edits.push({ from: sel.span.from, to: sel.span.to, text: `(${joined})` });
      }
    });
    let out = text;
    for (const e of edits.sort((a, b) => b.from - a.from))
      out = out.slice(0, e.from) + e.text + out.slice(e.to);
    return out;
  };
  return expand(exprText, []);
}

/** Replays the alert rules against a Prometheus (PROMETHEUS_URL mode); a URL alone is read with `query_range`. */
export async function dryRunPrometheus(
  ruleFile: unknown,
  prometheus: RangeQuerier | string,
  options: PrometheusDryRunOptions,
): Promise<DryRunReport> {
  const client = typeof prometheus === "string" ? new PrometheusQuerier(prometheus) : prometheus;
  const rules = parseRuleFile(ruleFile, options.defaultIntervalMs);
  const alerts = selectedAlerts(rules, options.alerts);
  const reports: AlertReport[] = [];
  for (const a of alerts) {
    const evaluated =
      (options.recordingRules ?? "inline") === "inline"
        ? expandRecordingRules(a.exprText, ruleFile, options.defaultIntervalMs)
        : a.exprText;
    const result = await client.queryRange(
      evaluated,
      alignUp(options.startMs, a.intervalMs),
      options.endMs,
      a.intervalMs,
    );
    reports.push(report(a, evaluated, result));
  }
  return {
    mode: "prometheus",
    start: alignUp(options.startMs, alerts[0]?.intervalMs ?? 1),
    end: options.endMs,
    alerts: reports,
  };
}

export interface AlertRate {
  group: string;
  alert: string;
  ruleLabels: Record<string, string>;
  firings: number;
  firingMs: number;
  /** Firings scaled to `periodMs` (e.g. pages per 28 days, what a policy caps). */
  firingsPerPeriod: number;
  firingMsPerPeriod: number;
}

/** Each alert's firings and firing time scaled from the replayed range to `periodMs` (default 28 days). */
export function ratesPerPeriod(report: DryRunReport, periodMs = 28 * 86_400_000): AlertRate[] {
  const replayed = report.end - report.start;
  if (!(replayed > 0)) throw new Error("the dry-run covered no time");
  const scale = periodMs / replayed;
  return report.alerts.map((a) => ({
    group: a.group,
    alert: a.alert,
    ruleLabels: a.ruleLabels,
    firings: a.firings,
    firingMs: a.firingMs,
    firingsPerPeriod: a.firings * scale,
    firingMsPerPeriod: a.firingMs * scale,
  }));
}

/**
 * Embedded mode from `source`, or Prometheus mode when `prometheusUrl` is given (e.g. from PROMETHEUS_URL),
 * read as `prometheusRead` says (PROMETHEUS_READ: remote_read where the server serves it by default).
 */
export async function dryRun(
  ruleFile: unknown,
  options: PrometheusDryRunOptions &
    EvalOptions & { source?: SeriesSource; prometheusUrl?: string; prometheusRead?: PrometheusReadMode },
): Promise<DryRunReport> {
  if (options.prometheusUrl) {
    const history = new PrometheusHistory(options.prometheusUrl, {
      ...(options.prometheusRead ? { mode: options.prometheusRead } : {}),
    });
    return dryRunPrometheus(ruleFile, history, options);
  }
  if (!options.source) throw new Error("dry-run needs either stored samples (a source) or a Prometheus URL");
  return dryRunEmbedded(ruleFile, options.source, options);
}
