import {
  type Aggregate,
  type Binary,
  type BinaryOp,
  type Call,
  COMPARISON_OPS,
  type Expr,
  type MatrixSelector,
  type Subquery,
  type VectorMatching,
  type VectorSelector,
} from "./ast.js";
import { PromqlError, parsePromql } from "./parse.js";
import {
  avgOverTime,
  extrapolatedRate,
  instantRate,
  KahanSum,
  minMaxOverTime,
  sumOverTime,
  type WindowContext,
  WindowedSeries,
} from "./range-functions.js";
import {
  anchoredRegex,
  type EvalOptions,
  type Labels,
  labelsKey,
  type PromqlCompat,
  type RangeResult,
  type ResultSeries,
  type SeriesSource,
} from "./types.js";

/**
 * A range-query evaluator with Prometheus semantics for the PromQL subset SLO rules use. Evaluation is
 * vectorised over the whole step grid: every node yields, per series, one value per step plus a
 * presence flag, so a 28-day query at a 5-minute step is a few passes over flat arrays.
 */

interface Grid {
  start: number;
  end: number;
  step: number;
  ts: number[];
}

type Value =
  | { kind: "scalar"; values: Float64Array }
  | { kind: "vector"; series: ResultSeries[] }
  | { kind: "string"; value: string };

interface MatrixSeries {
  labels: Labels;
  data: WindowedSeries;
}

function makeGrid(start: number, end: number, step: number): Grid {
  if (!(step > 0)) throw new Error(`step must be positive, got ${step}`);
  if (end < start) throw new Error(`end (${end}) is before start (${start})`);
  const ts: number[] = [];
  for (let t = start; t <= end; t += step) ts.push(t);
  return { start, end, step, ts };
}

function dropName(labels: Labels): Labels {
  if (!("__name__" in labels)) return labels;
  const { __name__: _, ...rest } = labels;
  return rest;
}

function emptySeries(labels: Labels, n: number): ResultSeries {
  return { labels, values: new Float64Array(n), present: new Uint8Array(n) };
}

/** Collects output samples by label set; two samples for one label set at one step is Prometheus's error. */
class SeriesCollector {
  private readonly byKey = new Map<string, ResultSeries>();
  constructor(private readonly n: number) {}

  series(labels: Labels): ResultSeries {
    const key = labelsKey(labels);
    let s = this.byKey.get(key);
    if (!s) {
      s = emptySeries(labels, this.n);
      this.byKey.set(key, s);
    }
    return s;
  }

  set(s: ResultSeries, k: number, value: number): void {
    if (s.present[k]) throw new Error("vector cannot contain metrics with the same labelset");
    s.present[k] = 1;
    s.values[k] = value;
  }

  result(): ResultSeries[] {
    return [...this.byKey.values()].filter((s) => s.present.some((p) => p === 1));
  }
}

const ARITHMETIC = new Set(["+", "-", "*", "/", "%", "^"]);

function arithmetic(op: BinaryOp, l: number, r: number): number {
  switch (op) {
    case "+":
      return l + r;
    case "-":
      return l - r;
    case "*":
      return l * r;
    case "/":
      return l / r;
    case "%":
      return l % r;
    case "^":
      return l ** r;
    default:
      throw new Error(`operator ${op} is not arithmetic`);
  }
}

function compare(op: BinaryOp, l: number, r: number): boolean {
  switch (op) {
    case "==":
      return l === r;
    case "!=":
      return l !== r;
    case ">":
      return l > r;
    case "<":
      return l < r;
    case ">=":
      return l >= r;
    case "<=":
      return l <= r;
    default:
      throw new Error(`operator ${op} is not a comparison`);
  }
}

function signature(matching: VectorMatching | undefined): (labels: Labels) => string {
  if (matching?.on) {
    const names = [...matching.labels].sort();
    return (l) => names.map((n) => `${n}\u0000${l[n] ?? ""}`).join("\u0001");
  }
  const ignored = new Set([...(matching?.labels ?? []), "__name__"]);
  return (l) => {
    const keep: Record<string, string> = {};
    for (const [k, v] of Object.entries(l)) if (!ignored.has(k) && v !== "") keep[k] = v;
    return labelsKey(keep);
  };
}

function unwrap(e: Expr): Expr {
  return e.type === "paren" ? unwrap(e.expr) : e;
}

/** Labels `absent()` gives its output: the selector's equality matchers (a label matched twice is left out). */
function absentLabels(arg: Expr): Labels {
  const e = unwrap(arg);
  const sel = e.type === "vector" ? e : e.type === "matrix" ? e.selector : undefined;
  const labels: Record<string, string> = {};
  if (!sel) return labels;
  const seen = new Set<string>();
  for (const m of sel.matchers) {
    if (m.op !== "=") continue;
    if (seen.has(m.name)) delete labels[m.name];
    else labels[m.name] = m.value;
    seen.add(m.name);
  }
  return labels;
}

/** Prometheus's quantile(): NaN sorts first, linear interpolation between the closest ranks. */
function quantile(q: number, v: ArrayLike<number>, lo: number, hi: number): number {
  if (Number.isNaN(q)) return Number.NaN;
  if (q < 0) return Number.NEGATIVE_INFINITY;
  if (q > 1) return Number.POSITIVE_INFINITY;
  const values = Array.prototype.slice.call(v, lo, hi + 1) as number[];
  values.sort((a, b) => (Number.isNaN(a) ? -1 : Number.isNaN(b) ? 1 : a - b));
  const n = values.length;
  const rank = q * (n - 1);
  const lower = Math.max(0, Math.floor(rank));
  const upper = Math.min(n - 1, lower + 1);
  const weight = rank - Math.floor(rank);
  return values[lower]! * (1 - weight) + values[upper]! * weight;
}

/** Population variance with Kahan-compensated running mean, as stdvar_over_time. */
function variance(v: ArrayLike<number>, lo: number, hi: number): number {
  let count = 0;
  const mean = new KahanSum();
  const aux = new KahanSum();
  for (let i = lo; i <= hi; i++) {
    const x = v[i]!;
    count++;
    const delta = x - (mean.sum + mean.c);
    mean.add(delta / count);
    aux.add(delta * (x - (mean.sum + mean.c)));
  }
  return (aux.sum + aux.c) / count;
}

const RANGE_FUNCTIONS = new Set([
  "rate",
  "increase",
  "delta",
  "irate",
  "idelta",
  "sum_over_time",
  "avg_over_time",
  "count_over_time",
  "max_over_time",
  "min_over_time",
  "last_over_time",
  "present_over_time",
  "quantile_over_time",
  "stddev_over_time",
  "stdvar_over_time",
  "absent_over_time",
]);

const MATH_FUNCTIONS: Record<string, (x: number) => number> = {
  abs: Math.abs,
  ceil: Math.ceil,
  floor: Math.floor,
  sqrt: Math.sqrt,
  exp: Math.exp,
  ln: Math.log,
  log2: Math.log2,
  log10: Math.log10,
  sgn: Math.sign,
};

interface Bucket {
  upperBound: number;
  count: number;
}

/** Prometheus's bucketQuantile for classic histograms (le buckets). */
export function bucketQuantile(q: number, input: Bucket[]): number {
  if (Number.isNaN(q)) return Number.NaN;
  if (q < 0) return Number.NEGATIVE_INFINITY;
  if (q > 1) return Number.POSITIVE_INFINITY;
  const sorted = [...input].sort((a, b) => a.upperBound - b.upperBound);
  if (sorted.length === 0 || sorted[sorted.length - 1]!.upperBound !== Number.POSITIVE_INFINITY)
    return Number.NaN;
  const buckets: Bucket[] = [];
  for (const b of sorted) {
    const last = buckets[buckets.length - 1];
    if (last && last.upperBound === b.upperBound) last.count += b.count;
    else buckets.push({ ...b });
  }
  let max = Number.NEGATIVE_INFINITY;
  for (const b of buckets) {
    if (b.count > max) max = b.count;
    else if (b.count < max) b.count = max;
  }
  if (buckets.length < 2) return Number.NaN;
  const observations = buckets[buckets.length - 1]!.count;
  if (observations === 0) return Number.NaN;
  let rank = q * observations;
  let b = 0;
  while (b < buckets.length - 1 && buckets[b]!.count < rank) b++;
  if (b === buckets.length - 1) return buckets[buckets.length - 2]!.upperBound;
  if (b === 0 && buckets[0]!.upperBound <= 0) return buckets[0]!.upperBound;
  let bucketStart = 0;
  const bucketEnd = buckets[b]!.upperBound;
  let count = buckets[b]!.count;
  if (b > 0) {
    bucketStart = buckets[b - 1]!.upperBound;
    count -= buckets[b - 1]!.count;
    rank -= buckets[b - 1]!.count;
  }
  return bucketStart + (bucketEnd - bucketStart) * (rank / count);
}

export class Evaluator {
  private readonly lookback: number;
  private readonly subqueryStep: number;
  private readonly compat: PromqlCompat;

  constructor(
    private readonly source: SeriesSource,
    options: EvalOptions = {},
  ) {
    this.lookback = options.lookbackDeltaMs ?? 300_000;
    this.subqueryStep = options.subqueryStepMs ?? 60_000;
    this.compat = options.compat ?? "v3";
  }

  /** Evaluates `query` at start, start + step, … ≤ end (all in ms), like Prometheus's /api/v1/query_range. */
  async queryRange(
    query: string | Expr,
    startMs: number,
    endMs: number,
    stepMs: number,
  ): Promise<RangeResult> {
    const expr = typeof query === "string" ? parsePromql(query) : query;
    const grid = makeGrid(startMs, endMs, stepMs);
    const value = await this.eval(expr, grid);
    if (value.kind === "string") throw new Error("a query must yield a vector or a scalar, not a string");
    const series =
      value.kind === "scalar"
        ? [{ labels: {}, values: value.values, present: new Uint8Array(grid.ts.length).fill(1) }]
        : value.series.filter((s) => s.present.some((p) => p === 1));
    series.sort((a, b) => (labelsKey(a.labels) < labelsKey(b.labels) ? -1 : 1));
    return { timestamps: grid.ts, series };
  }

  private async eval(e: Expr, grid: Grid): Promise<Value> {
    const n = grid.ts.length;
    switch (e.type) {
      case "number":
        return { kind: "scalar", values: new Float64Array(n).fill(e.value) };
      case "string":
        return { kind: "string", value: e.value };
      case "paren":
        return this.eval(e.expr, grid);
      case "vector":
        return { kind: "vector", series: await this.selectInstant(e, grid) };
      case "matrix":
      case "subquery":
        throw new Error("a range vector can only be an argument of a range function such as rate()");
      case "unary": {
        const v = await this.eval(e.expr, grid);
        if (e.op === "+") return v;
        if (v.kind === "scalar") return { kind: "scalar", values: v.values.map((x) => -x) };
        if (v.kind === "vector") {
          return {
            kind: "vector",
            series: v.series.map((s) => ({
              labels: dropName(s.labels),
              values: s.values.map((x) => -x),
              present: s.present,
            })),
          };
        }
        throw new Error("unary minus needs a number or a vector");
      }
      case "aggregate":
        return this.aggregate(e, grid);
      case "binary":
        return this.binary(e, grid);
      case "call":
        return this.call(e, grid);
    }
  }

  private async fetch(sel: VectorSelector, fromMs: number, toMs: number) {
    const raw = await this.source.select(sel.name, sel.matchers, fromMs, toMs);
    return raw.map((r) => ({
      labels: r.labels.__name__ === undefined ? { ...r.labels, __name__: sel.name } : r.labels,
      t: r.timestamps,
      v: r.values,
      stale: r.stale,
    }));
  }

  private async selectInstant(sel: VectorSelector, grid: Grid): Promise<ResultSeries[]> {
    const raw = await this.fetch(sel, grid.start - sel.offsetMs - this.lookback, grid.end - sel.offsetMs);
    const n = grid.ts.length;
    const leftOpen = this.compat === "v3";
    return raw.map(({ labels, t, v, stale }) => {
      const out = emptySeries(labels, n);
      let idx = -1;
      for (let k = 0; k < n; k++) {
        const ref = grid.ts[k]! - sel.offsetMs;
        while (idx + 1 < t.length && t[idx + 1]! <= ref) idx++;
        if (idx < 0 || stale?.[idx]) continue;
        const age = ref - t[idx]!;
        if (leftOpen ? age < this.lookback : age <= this.lookback) {
          out.present[k] = 1;
          out.values[k] = v[idx]!;
        }
      }
      return out;
    });
  }

  private async matrix(
    arg: Expr,
    grid: Grid,
  ): Promise<{ series: MatrixSeries[]; rangeMs: number; offsetMs: number }> {
    const e = unwrap(arg);
    if (e.type === "matrix") return this.matrixSelector(e, grid);
    if (e.type === "subquery") return this.subquery(e, grid);
    throw new Error("expected a range vector (a selector with [range] or a subquery)");
  }

  private async matrixSelector(e: MatrixSelector, grid: Grid) {
    const raw = await this.fetch(e.selector, grid.start - e.offsetMs - e.rangeMs, grid.end - e.offsetMs);
    return {
      series: raw.map((r) => {
        if (!r.stale || !Array.prototype.includes.call(r.stale, 1))
          return { labels: r.labels, data: new WindowedSeries(r.t, r.v) };
        // Range functions never see staleness markers.
        const t: number[] = [];
        const v: number[] = [];
        for (let i = 0; i < r.t.length; i++) {
          if (!r.stale[i]) {
            t.push(r.t[i]!);
            v.push(r.v[i]!);
          }
        }
        return { labels: r.labels, data: new WindowedSeries(t, v) };
      }),
      rangeMs: e.rangeMs,
      offsetMs: e.offsetMs,
    };
  }

  private async subquery(e: Subquery, grid: Grid) {
    const step = e.stepMs ?? this.subqueryStep;
    const from = grid.start - e.offsetMs - e.rangeMs;
    let start = step * Math.floor(from / step);
    if (this.compat === "v3" ? start <= from : start < from) start += step;
    const inner = await this.eval(e.expr, makeGrid(start, grid.end - e.offsetMs, step));
    if (inner.kind !== "vector") throw new Error("a subquery needs an instant vector inside");
    const ts = makeGrid(start, grid.end - e.offsetMs, step).ts;
    const series = inner.series.map((s) => {
      const t: number[] = [];
      const v: number[] = [];
      for (let k = 0; k < ts.length; k++) {
        if (s.present[k]) {
          t.push(ts[k]!);
          v.push(s.values[k]!);
        }
      }
      return { labels: s.labels, data: new WindowedSeries(t, v) };
    });
    return { series, rangeMs: e.rangeMs, offsetMs: e.offsetMs };
  }

  private async rangeFunction(e: Call, grid: Grid): Promise<Value> {
    const withParam = e.func === "quantile_over_time";
    const arity = withParam ? 2 : 1;
    const rangeArg = e.args[arity - 1];
    if (e.args.length !== arity || !rangeArg) {
      throw new Error(`${e.func}() takes ${withParam ? "a scalar and " : ""}one range-vector argument`);
    }
    const param = withParam ? await this.scalarArg(e, 0, grid) : undefined;
    const m = await this.matrix(rangeArg, grid);
    const n = grid.ts.length;
    const absentOverTime = e.func === "absent_over_time";
    const seenAt = absentOverTime ? new Uint8Array(n) : undefined;
    const leftOpen = this.compat === "v3";
    const collector = new SeriesCollector(n);
    const ctx: WindowContext = { rangeStartMs: 0, rangeEndMs: 0, rangeMs: m.rangeMs, compat: this.compat };
    for (const { labels, data } of m.series) {
      const { t } = data;
      const outLabels = e.func === "last_over_time" ? labels : dropName(labels);
      let out: ResultSeries | undefined;
      let lo = 0;
      let hi = -1;
      for (let k = 0; k < n; k++) {
        const rangeEnd = grid.ts[k]! - m.offsetMs;
        const rangeStart = rangeEnd - m.rangeMs;
        while (lo < t.length && (leftOpen ? t[lo]! <= rangeStart : t[lo]! < rangeStart)) lo++;
        while (hi + 1 < t.length && t[hi + 1]! <= rangeEnd) hi++;
        if (hi < lo) continue;
        ctx.rangeStartMs = rangeStart;
        ctx.rangeEndMs = rangeEnd;
        let value: number | undefined;
        switch (e.func) {
          case "rate":
            value = extrapolatedRate(data, lo, hi, ctx, true, true);
            break;
          case "increase":
            value = extrapolatedRate(data, lo, hi, ctx, true, false);
            break;
          case "delta":
            value = extrapolatedRate(data, lo, hi, ctx, false, false);
            break;
          case "irate":
            value = instantRate(data, lo, hi, true);
            break;
          case "idelta":
            value = instantRate(data, lo, hi, false);
            break;
          case "sum_over_time":
            value = sumOverTime(data, lo, hi, this.compat);
            break;
          case "avg_over_time":
            value = avgOverTime(data, lo, hi, this.compat);
            break;
          case "count_over_time":
            value = hi - lo + 1;
            break;
          case "present_over_time":
            value = 1;
            break;
          case "absent_over_time":
            seenAt![k] = 1;
            break;
          case "quantile_over_time":
            value = quantile(param![k]!, data.v, lo, hi);
            break;
          case "stddev_over_time":
            value = Math.sqrt(variance(data.v, lo, hi));
            break;
          case "stdvar_over_time":
            value = variance(data.v, lo, hi);
            break;
          case "max_over_time":
            value = minMaxOverTime(data, lo, hi, true);
            break;
          case "min_over_time":
            value = minMaxOverTime(data, lo, hi, false);
            break;
          case "last_over_time":
            value = data.v[hi]!;
            break;
        }
        if (value === undefined) continue;
        out ??= collector.series(outLabels);
        collector.set(out, k, value);
      }
    }
    if (seenAt) {
      const out = emptySeries(absentLabels(rangeArg), n);
      for (let k = 0; k < n; k++) {
        if (seenAt[k]) continue;
        out.present[k] = 1;
        out.values[k] = 1;
      }
      return { kind: "vector", series: [out] };
    }
    return { kind: "vector", series: collector.result() };
  }

  private async scalarArg(e: Call, i: number, grid: Grid): Promise<Float64Array> {
    const arg = e.args[i];
    if (!arg) throw new Error(`${e.func}() is missing argument ${i + 1}`);
    const v = await this.eval(arg, grid);
    if (v.kind !== "scalar") throw new Error(`argument ${i + 1} of ${e.func}() must be a scalar`);
    return v.values;
  }

  private async vectorArg(e: Call, i: number, grid: Grid): Promise<ResultSeries[]> {
    const arg = e.args[i];
    if (!arg) throw new Error(`${e.func}() is missing argument ${i + 1}`);
    const v = await this.eval(arg, grid);
    if (v.kind !== "vector") throw new Error(`argument ${i + 1} of ${e.func}() must be an instant vector`);
    return v.series;
  }

  private async stringArg(e: Call, i: number): Promise<string> {
    const arg = e.args[i] && unwrap(e.args[i]!);
    if (arg?.type !== "string") throw new Error(`argument ${i + 1} of ${e.func}() must be a string`);
    return arg.value;
  }

  private mapVector(series: ResultSeries[], f: (x: number, k: number) => number): Value {
    return {
      kind: "vector",
      series: series.map((s) => ({
        labels: dropName(s.labels),
        values: s.values.map((x, k) => f(x, k)),
        present: s.present,
      })),
    };
  }

  private async call(e: Call, grid: Grid): Promise<Value> {
    const n = grid.ts.length;
    if (RANGE_FUNCTIONS.has(e.func)) return this.rangeFunction(e, grid);
    const math = MATH_FUNCTIONS[e.func];
    if (math) return this.mapVector(await this.vectorArg(e, 0, grid), math);
    switch (e.func) {
      case "time":
        return { kind: "scalar", values: Float64Array.from(grid.ts, (t) => t / 1000) };
      case "vector": {
        const s = await this.scalarArg(e, 0, grid);
        return { kind: "vector", series: [{ labels: {}, values: s, present: new Uint8Array(n).fill(1) }] };
      }
      case "scalar": {
        const v = await this.vectorArg(e, 0, grid);
        const out = new Float64Array(n).fill(Number.NaN);
        for (let k = 0; k < n; k++) {
          let count = 0;
          let value = Number.NaN;
          for (const s of v) {
            if (s.present[k]) {
              count++;
              value = s.values[k]!;
            }
          }
          if (count === 1) out[k] = value;
        }
        return { kind: "scalar", values: out };
      }
      case "clamp_min":
      case "clamp_max": {
        const v = await this.vectorArg(e, 0, grid);
        const bound = await this.scalarArg(e, 1, grid);
        const f = e.func === "clamp_min" ? Math.max : Math.min;
        return this.mapVector(v, (x, k) => f(x, bound[k]!));
      }
      case "clamp": {
        const v = await this.vectorArg(e, 0, grid);
        const lo = await this.scalarArg(e, 1, grid);
        const hi = await this.scalarArg(e, 2, grid);
        const mapped = this.mapVector(v, (x, k) => Math.max(lo[k]!, Math.min(hi[k]!, x)));
        // Prometheus returns nothing at steps where min > max.
        if (mapped.kind === "vector") {
          for (const s of mapped.series) {
            s.present = s.present.map((p, k) => (p && lo[k]! <= hi[k]! ? 1 : 0));
          }
        }
        return mapped;
      }
      case "absent":
        return this.absent(e, grid);
      case "round": {
        const v = await this.vectorArg(e, 0, grid);
        const to = e.args.length > 1 ? await this.scalarArg(e, 1, grid) : undefined;
        return this.mapVector(v, (x, k) => {
          const inverse = 1 / (to ? to[k]! : 1);
          return Math.floor(x * inverse + 0.5) / inverse;
        });
      }
      case "histogram_quantile":
        return this.histogramQuantile(e, grid);
      case "label_replace":
        return this.labelReplace(e, grid);
      default:
        throw new Error(`function ${e.func}() is not supported by the embedded evaluator`);
    }
  }

  private async absent(e: Call, grid: Grid): Promise<Value> {
    const n = grid.ts.length;
    const v = await this.vectorArg(e, 0, grid);
    const out = emptySeries(e.args[0] ? absentLabels(e.args[0]) : {}, n);
    for (let k = 0; k < n; k++) {
      if (!v.some((s) => s.present[k])) {
        out.present[k] = 1;
        out.values[k] = 1;
      }
    }
    return { kind: "vector", series: [out] };
  }

  private async histogramQuantile(e: Call, grid: Grid): Promise<Value> {
    const n = grid.ts.length;
    const q = await this.scalarArg(e, 0, grid);
    const v = await this.vectorArg(e, 1, grid);
    const groups = new Map<string, { labels: Labels; members: { le: number; s: ResultSeries }[] }>();
    for (const s of v) {
      const leText = s.labels.le;
      if (leText === undefined) continue;
      const le = leText.toLowerCase() === "+inf" ? Number.POSITIVE_INFINITY : Number(leText);
      if (Number.isNaN(le)) continue;
      const { le: _, ...rest } = dropName(s.labels);
      const key = labelsKey(rest);
      let g = groups.get(key);
      if (!g) {
        g = { labels: rest, members: [] };
        groups.set(key, g);
      }
      g.members.push({ le, s });
    }
    const series: ResultSeries[] = [];
    for (const g of groups.values()) {
      const out = emptySeries(g.labels, n);
      for (let k = 0; k < n; k++) {
        const buckets: Bucket[] = [];
        for (const m of g.members)
          if (m.s.present[k]) buckets.push({ upperBound: m.le, count: m.s.values[k]! });
        if (buckets.length === 0) continue;
        out.present[k] = 1;
        out.values[k] = bucketQuantile(q[k]!, buckets);
      }
      series.push(out);
    }
    return { kind: "vector", series };
  }

  private async labelReplace(e: Call, grid: Grid): Promise<Value> {
    const v = await this.vectorArg(e, 0, grid);
    const dst = await this.stringArg(e, 1);
    const replacement = await this.stringArg(e, 2);
    const src = await this.stringArg(e, 3);
    const regex = await this.stringArg(e, 4);
    const re = anchoredRegex(regex);
    // Go's ${1} / $name templates in JavaScript's replace syntax.
    const template = replacement.replace(/\$\{(\w+)\}|\$([A-Za-z_]\w*)/g, (_m, a?: string, b?: string) => {
      const name = a ?? b!;
      return /^\d+$/.test(name) ? `$${name}` : `$<${name}>`;
    });
    const collector = new SeriesCollector(grid.ts.length);
    for (const s of v) {
      const value = s.labels[src] ?? "";
      let labels: Labels = s.labels;
      if (re.test(value)) {
        const replaced = value.replace(re, template);
        const next: Record<string, string> = { ...s.labels };
        if (replaced === "") delete next[dst];
        else next[dst] = replaced;
        labels = next;
      }
      const out = collector.series(labels);
      for (let k = 0; k < s.present.length; k++) if (s.present[k]) collector.set(out, k, s.values[k]!);
    }
    return { kind: "vector", series: collector.result() };
  }

  private async aggregate(e: Aggregate, grid: Grid): Promise<Value> {
    const n = grid.ts.length;
    const v = await this.eval(e.expr, grid);
    if (v.kind !== "vector") throw new Error(`${e.op}() aggregates an instant vector`);
    const grouping = e.grouping;
    const byLabels = grouping?.mode === "by" ? grouping.labels : [];
    const without = new Set(grouping?.mode === "without" ? [...grouping.labels, "__name__"] : []);
    const groupLabels = (l: Labels): Labels => {
      if (grouping?.mode === "without") {
        const out: Record<string, string> = {};
        for (const [k, val] of Object.entries(l)) if (!without.has(k)) out[k] = val;
        return out;
      }
      const out: Record<string, string> = {};
      for (const k of byLabels) if (l[k] !== undefined && l[k] !== "") out[k] = l[k]!;
      return out;
    };
    const groups = new Map<string, { labels: Labels; members: ResultSeries[] }>();
    for (const s of v.series) {
      const gl = groupLabels(s.labels);
      const key = labelsKey(gl);
      let g = groups.get(key);
      if (!g) {
        g = { labels: gl, members: [] };
        groups.set(key, g);
      }
      g.members.push(s);
    }
    const series: ResultSeries[] = [];
    for (const g of groups.values()) {
      const out = emptySeries(g.labels, n);
      for (let k = 0; k < n; k++) {
        let count = 0;
        let acc = 0;
        const kahan = new KahanSum();
        for (const s of g.members) {
          if (!s.present[k]) continue;
          const x = s.values[k]!;
          count++;
          switch (e.op) {
            case "sum":
              if (this.compat === "v3") kahan.add(x);
              else acc += x;
              break;
            case "avg":
              if (this.compat === "v3") kahan.add(x);
              else acc += x / count - acc / count;
              break;
            case "max":
              if (count === 1 || x > acc || Number.isNaN(acc)) acc = x;
              break;
            case "min":
              if (count === 1 || x < acc || Number.isNaN(acc)) acc = x;
              break;
            default:
              break;
          }
        }
        if (count === 0) continue;
        let value = acc;
        if (e.op === "sum" && this.compat === "v3") value = kahan.value();
        else if (e.op === "avg" && this.compat === "v3") value = kahan.value() / count;
        else if (e.op === "count") value = count;
        else if (e.op === "group") value = 1;
        out.present[k] = 1;
        out.values[k] = value;
      }
      series.push(out);
    }
    return { kind: "vector", series };
  }

  private async binary(e: Binary, grid: Grid): Promise<Value> {
    const [l, r] = await Promise.all([this.eval(e.lhs, grid), this.eval(e.rhs, grid)]);
    const n = grid.ts.length;
    const isComparison = COMPARISON_OPS.has(e.op);
    if (l.kind === "string" || r.kind === "string")
      throw new Error(`operator ${e.op} is not defined on strings`);
    if (e.op === "and" || e.op === "or" || e.op === "unless") {
      if (l.kind !== "vector" || r.kind !== "vector")
        throw new Error(`set operator ${e.op} needs vectors on both sides`);
      return { kind: "vector", series: this.setOp(e, l.series, r.series, n) };
    }
    if (l.kind === "scalar" && r.kind === "scalar") {
      if (isComparison && !e.bool) throw new Error("comparisons between scalars must use the bool modifier");
      const out = new Float64Array(n);
      for (let k = 0; k < n; k++) {
        const lv = l.values[k]!;
        const rv = r.values[k]!;
        out[k] = isComparison ? (compare(e.op, lv, rv) ? 1 : 0) : arithmetic(e.op, lv, rv);
      }
      return { kind: "scalar", values: out };
    }
    if (l.kind === "vector" && r.kind === "vector") {
      return { kind: "vector", series: this.vectorBinop(e, l.series, r.series, n) };
    }
    const swap = l.kind === "scalar";
    const vec = (swap ? r : l) as { kind: "vector"; series: ResultSeries[] };
    const scalar = (swap ? l : r) as { kind: "scalar"; values: Float64Array };
    const drop = ARITHMETIC.has(e.op) || e.bool;
    const collector = new SeriesCollector(n);
    for (const s of vec.series) {
      let out: ResultSeries | undefined;
      for (let k = 0; k < n; k++) {
        if (!s.present[k]) continue;
        const vv = s.values[k]!;
        const sv = scalar.values[k]!;
        const lv = swap ? sv : vv;
        const rv = swap ? vv : sv;
        let value: number;
        if (isComparison) {
          // The vector's own value is kept, whichever side it is on.
          const keep = compare(e.op, lv, rv);
          if (e.bool) value = keep ? 1 : 0;
          else if (keep) value = vv;
          else continue;
        } else value = arithmetic(e.op, lv, rv);
        out ??= collector.series(drop ? dropName(s.labels) : s.labels);
        collector.set(out, k, value);
      }
    }
    return { kind: "vector", series: collector.result() };
  }

  private setOp(e: Binary, lhs: ResultSeries[], rhs: ResultSeries[], n: number): ResultSeries[] {
    const sig = signature(e.matching);
    const presence = (side: ResultSeries[]) => {
      const bySig = new Map<string, Uint8Array>();
      for (const s of side) {
        const key = sig(s.labels);
        let p = bySig.get(key);
        if (!p) {
          p = new Uint8Array(n);
          bySig.set(key, p);
        }
        for (let k = 0; k < n; k++) if (s.present[k]) p[k] = 1;
      }
      return bySig;
    };
    const filter = (s: ResultSeries, keepAt: (k: number) => boolean): ResultSeries => ({
      labels: s.labels,
      values: s.values,
      present: s.present.map((p, k) => (p && keepAt(k) ? 1 : 0)),
    });
    if (e.op === "and" || e.op === "unless") {
      const rp = presence(rhs);
      const wantPresent = e.op === "and";
      return lhs.map((s) => {
        const p = rp.get(sig(s.labels));
        return filter(s, (k) => (p?.[k] === 1) === wantPresent);
      });
    }
    const lp = presence(lhs);
    const out = [...lhs];
    for (const s of rhs) {
      const p = lp.get(sig(s.labels));
      out.push(filter(s, (k) => p?.[k] !== 1));
    }
    // Series with the same labels on both sides merge into one (the left one wins where both exist).
    const collector = new SeriesCollector(n);
    for (const s of out) {
      const o = collector.series(s.labels);
      for (let k = 0; k < n; k++) if (s.present[k] && !o.present[k]) collector.set(o, k, s.values[k]!);
    }
    return collector.result();
  }

  private vectorBinop(e: Binary, lhs: ResultSeries[], rhs: ResultSeries[], n: number): ResultSeries[] {
    const m = e.matching ?? { on: false, labels: [], include: [] };
    const swap = m.group === "right";
    const many = swap ? rhs : lhs;
    const one = swap ? lhs : rhs;
    const sig = signature(m);
    const oneBySig = new Map<string, number[]>();
    one.forEach((s, j) => {
      const key = sig(s.labels);
      const list = oneBySig.get(key);
      if (list) list.push(j);
      else oneBySig.set(key, [j]);
    });
    for (const idxs of oneBySig.values()) {
      if (idxs.length < 2) continue;
      for (let k = 0; k < n; k++) {
        let count = 0;
        for (const j of idxs) count += one[j]!.present[k]!;
        if (count > 1) {
          throw new Error(
            `found duplicate series for the match group on the ${swap ? "left" : "right"} hand-side of the operation: many-to-many matching not allowed: matching labels must be unique on one side`,
          );
        }
      }
    }
    const drop = ARITHMETIC.has(e.op) || e.bool;
    const isComparison = COMPARISON_OPS.has(e.op);
    const resultLabels = (manyLabels: Labels, oneLabels: Labels): Labels => {
      const out: Record<string, string> = { ...manyLabels };
      if (drop) delete out.__name__;
      if (!m.group) {
        if (m.on) {
          for (const k of Object.keys(out)) if (!m.labels.includes(k)) delete out[k];
        } else for (const k of m.labels) delete out[k];
      }
      for (const k of m.include) {
        const v = oneLabels[k];
        if (v !== undefined && v !== "") out[k] = v;
        else delete out[k];
      }
      return out;
    };
    const matchedAt = new Map<string, Uint8Array>();
    const collector = new SeriesCollector(n);
    for (const ms of many) {
      const key = sig(ms.labels);
      const cands = oneBySig.get(key);
      if (!cands) continue;
      for (const j of cands) {
        const os = one[j]!;
        let out: ResultSeries | undefined;
        for (let k = 0; k < n; k++) {
          if (!ms.present[k] || !os.present[k]) continue;
          if (!m.group) {
            let seen = matchedAt.get(key);
            if (!seen) {
              seen = new Uint8Array(n);
              matchedAt.set(key, seen);
            }
            if (seen[k]) {
              throw new Error(
                "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)",
              );
            }
            seen[k] = 1;
          }
          const vl = swap ? os.values[k]! : ms.values[k]!;
          const vr = swap ? ms.values[k]! : os.values[k]!;
          let value: number;
          if (isComparison) {
            const keep = compare(e.op, vl, vr);
            if (e.bool) value = keep ? 1 : 0;
            else if (keep) value = vl;
            else continue;
          } else value = arithmetic(e.op, vl, vr);
          out ??= collector.series(resultLabels(ms.labels, os.labels));
          collector.set(out, k, value);
        }
      }
    }
    return collector.result();
  }
}

/** One-shot range query over `source`; see `Evaluator.queryRange`. */
export function queryRange(
  source: SeriesSource,
  query: string | Expr,
  startMs: number,
  endMs: number,
  stepMs: number,
  options?: EvalOptions,
): Promise<RangeResult> {
  return new Evaluator(source, options).queryRange(query, startMs, endMs, stepMs);
}

export { PromqlError };
