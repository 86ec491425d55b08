import type { LatencyHistogram } from "../core/aggregates.js";
import type { LatencyHistory, SliHistory } from "../core/history.js";
import { errorBudgetOf } from "../core/proposal.js";
import type { Confidence } from "../core/slo.js";
import { type Backtest, type BacktestOptions, type BacktestRung, backtest } from "./backtest.js";
import { assessConfidence, type BudgetConsumer, topBudgetConsumers } from "./confidence.js";
import { HistoryError, type PreparedHistory, prepareHistory } from "./history.js";

/**
 * Picks targets from a backtested ladder. The rule reconciles the SRE book ("don't pick a target from
 * current performance") with history: the recommendation is the highest rung that history shows is
 * achievable WITH headroom — its worst window used at most 75% of the budget and it would have paged at
 * most twice per window — so it is a starter SLO, not last month's luck.
 *
 * Volume cap: a rung is only offered when one window is expected to hold at least one allowed bad event
 * (events per window × (1 − target) >= 1); above that the SLO cannot be measured — a flat-100% service
 * with little traffic would otherwise be handed 99.99% on no evidence.
 */

export interface TargetRule {
  /** Worst-window budget use allowed for the recommendation (fraction). Default 0.75. */
  maxBudgetUsed: number;
  /** Page episodes allowed in the worst window. Default 2. */
  maxPagesPerWindow: number;
  /** Allowed bad events a window must hold for a rung to be measurable. Default 1. */
  minAllowedBadPerWindow: number;
}

export const DEFAULT_TARGET_RULE: TargetRule = {
  maxBudgetUsed: 0.75,
  maxPagesPerWindow: 2,
  minAllowedBadPerWindow: 1,
};

export interface TargetChoice {
  /** Percent. */
  recommended: number;
  /** One rung above the recommendation, when it is measurable. */
  aspirational?: number;
  /** One rung below. */
  safe?: number;
  /** Fraction of events allowed to be bad at the recommended target. */
  errorBudget: number;
  /** Highest measurable rung given the traffic, undefined when even the lowest rung is not. */
  volumeCap?: number;
  /** False when even the lowest rung failed the rule; the lowest rung is then returned as a floor. */
  achievable: boolean;
  /** Why this rung and not the next one up, in words. */
  reasons: string[];
}

const pct = (x: number) => `${Math.round(x * 1000) / 10}%`;
const fmtN = (x: number) =>
  x >= 100 ? Math.round(x).toLocaleString("en-US") : String(Math.round(x * 10) / 10);

/** `value` (known to exceed `limit`) with the fewest decimals, up to 4, that still show it above `limit`. */
function above(value: number, limit: number): string {
  for (let d = 0; d < 4; d++)
    if (Number(value.toFixed(d)) > limit) return value.toLocaleString("en-US", { maximumFractionDigits: d });
  return value.toFixed(4);
}

function passes(r: BacktestRung, rule: TargetRule): boolean {
  return (
    r.worstWindowBudgetUsed <= rule.maxBudgetUsed + 1e-12 && r.worstWindowPages <= rule.maxPagesPerWindow
  );
}

function failure(r: BacktestRung, rule: TargetRule): string {
  const why: string[] = [];
  // "more than the … allowed", with enough digits that the figure shown exceeds the limit shown.
  if (r.worstWindowBudgetUsed > rule.maxBudgetUsed + 1e-12) {
    why.push(
      `its worst window used ${above(r.worstWindowBudgetUsed * 100, rule.maxBudgetUsed * 100)}% of the budget, ` +
        `more than the ${pct(rule.maxBudgetUsed)} allowed`,
    );
  }
  if (r.worstWindowPages > rule.maxPagesPerWindow) {
    why.push(
      `it would have paged ${above(r.worstWindowPages, rule.maxPagesPerWindow)} times in one window` +
        `${Number.isInteger(r.worstWindowPages) ? "" : " (scaled to a window from a shorter history)"}, ` +
        `more than the ${rule.maxPagesPerWindow} allowed`,
    );
  }
  return why.join(" and ");
}

export function chooseTarget(bt: Backtest, rule: Partial<TargetRule> = {}): TargetChoice {
  const r: TargetRule = { ...DEFAULT_TARGET_RULE, ...rule };
  const ladder = [...bt.ladder].sort((a, b) => a.target - b.target);
  if (ladder.length === 0) throw new HistoryError("the backtest has an empty ladder");
  const measurable = ladder.filter((x) => x.allowedBadPerWindow >= r.minAllowedBadPerWindow);
  const volumeCap = measurable.length ? measurable[measurable.length - 1]!.target : undefined;
  const reasons: string[] = [];
  const candidates = measurable.length ? measurable : [ladder[0]!];
  if (!measurable.length) {
    reasons.push(
      `only ${fmtN(bt.eventsPerWindow)} events per ${bt.windowDays}d window: even ${ladder[0]!.target}% allows less ` +
        `than ${r.minAllowedBadPerWindow} bad event, so an event-based SLO cannot be measured; the lowest rung is shown as a floor`,
    );
  }
  let idx = -1;
  for (let i = candidates.length - 1; i >= 0; i--) {
    if (passes(candidates[i]!, r)) {
      idx = i;
      break;
    }
  }
  const passed = idx >= 0;
  // A rung that passes only because nothing was measured is not an achievement.
  const achievable = passed && measurable.length > 0;
  if (!passed) {
    idx = 0;
    reasons.push(
      `no rung passes: even ${candidates[0]!.target}% fails because ${failure(candidates[0]!, r)}; ` +
        `${candidates[0]!.target}% is shown as a floor, not a target this history supports`,
    );
  }
  const chosen = candidates[idx]!;
  if (passed) {
    reasons.push(
      `${chosen.target}%: worst ${bt.windowDays}d window used ${pct(chosen.worstWindowBudgetUsed)} of the budget, ` +
        `${fmtN(chosen.worstWindowPages)} page(s) in the worst window`,
    );
  }
  const above = ladder.find((x) => x.target > chosen.target);
  if (above) {
    if (volumeCap !== undefined && above.target > volumeCap) {
      reasons.push(
        `not ${above.target}%: ${fmtN(bt.eventsPerWindow)} events per window allow only ${fmtN(above.allowedBadPerWindow)} ` +
          `bad events there, too few to measure`,
      );
    } else if (achievable) {
      reasons.push(`not ${above.target}%: ${failure(above, r)}`);
    }
  }
  const aspirational = candidates[idx + 1]?.target;
  const safe = idx > 0 ? candidates[idx - 1]!.target : undefined;
  return {
    recommended: chosen.target,
    aspirational: achievable ? aspirational : undefined,
    safe,
    errorBudget: errorBudgetOf(chosen.target),
    volumeCap,
    achievable,
    reasons,
  };
}

/**
 * Backtest plus choice in one call. When no rung of the ladder holds, whole 5% rungs below it (down to
 * 50%) are backtested too, so the recommendation is a rung history supports rather than one the reasons
 * themselves say fails.
 */
export function recommendTarget(
  history: SliHistory | PreparedHistory,
  opts: BacktestOptions & { rule?: Partial<TargetRule> } = {},
): { backtest: Backtest; choice: TargetChoice } {
  const h = prepareHistory(history);
  const bt = backtest(h, opts);
  const choice = chooseTarget(bt, opts.rule);
  const lower = rungsBelow(bt.ladder[0]!.target);
  if (choice.achievable || choice.volumeCap === undefined || lower.length === 0)
    return { backtest: bt, choice };
  const extended = backtest(h, { ...opts, ladder: [...lower, ...bt.ladder.map((r) => r.target)] });
  return { backtest: extended, choice: chooseTarget(extended, opts.rule) };
}

/** Whole 5% rungs below `lowest`, down to 50%. */
function rungsBelow(lowest: number): number[] {
  const out: number[] = [];
  for (let t = Math.ceil(lowest / 5) * 5 - 5; t >= 50; t -= 5) out.unshift(t);
  return out;
}

export interface TargetProposal {
  backtest: Backtest;
  choice: TargetChoice;
  /** Confidence in the recommended target. */
  confidence: Confidence;
  /** Worst periods at the recommended target, worst first (adjacent hours merged): the incidents to point at. */
  topConsumers: BudgetConsumer[];
  warnings: string[];
}

/**
 * Everything the analysis says about one SLI's history, in one pass over prepared data: the ladder
 * backtest, the chosen targets, confidence in the recommendation and the periods that ate the budget.
 * Throws InsufficientHistoryError under 7 days.
 */
export function proposeTarget(
  history: SliHistory | PreparedHistory,
  opts: BacktestOptions & {
    rule?: Partial<TargetRule>;
    /** A second measurement of the same SLI, for the agreement part of confidence. */
    otherSource?: SliHistory | PreparedHistory;
    /** How many budget consumers to return; default 5. */
    consumers?: number;
  } = {},
): TargetProposal {
  const h = prepareHistory(history);
  const { backtest: bt, choice } = recommendTarget(h, opts);
  const confidence = assessConfidence(h, {
    target: choice.recommended,
    windowDays: bt.windowDays,
    backtest: bt,
    otherSource: opts.otherSource,
  });
  const topConsumers = topBudgetConsumers(h, {
    granularity: "hour",
    k: opts.consumers ?? 5,
    target: choice.recommended,
    windowDays: bt.windowDays,
    mergeAdjacent: true,
  });
  const warnings = [...bt.warnings];
  if (!choice.achievable) warnings.push(choice.reasons[0]!);
  return { backtest: bt, choice, confidence, topConsumers, warnings };
}

// ── latency thresholds ─────────────────────────────────────────────────────────────────────────────

/** The smallest bucket bound >= value, or undefined when the value is above every finite bound. */
export function snapUpToBucket(valueMs: number, boundsMs: readonly number[]): number | undefined {
  let best: number | undefined;
  for (const b of boundsMs) if (b >= valueMs - 1e-9 && (best === undefined || b < best)) best = b;
  return best;
}

export interface LatencyThreshold {
  /** A bucket bound (so `le="<threshold>"` selects it exactly). */
  thresholdMs: number;
  quantile: number;
  /** Share of the period's requests at or under the threshold. */
  fractionUnder: number;
  observations: number;
  /** Set when the quantile lies in the +Inf bucket: the threshold is the last finite bound instead. */
  warning?: string;
}

/**
 * Latency threshold = the period's p95 (or another quantile) snapped UP to the next bucket boundary. With
 * bucketed data the quantile is only known to lie in a bucket, so the bucket's upper bound is both the
 * snapped value and an exact `le` the SLI can select.
 */
export function latencyThreshold(hist: LatencyHistogram, quantile = 0.95): LatencyThreshold {
  if (!(quantile > 0 && quantile < 1)) throw new HistoryError(`quantile must be in (0, 1), got ${quantile}`);
  const { boundsMs, counts } = hist;
  if (boundsMs.length === 0) throw new HistoryError("latency histogram has no bucket bounds");
  if (counts.length !== boundsMs.length + 1) {
    throw new HistoryError(
      `latency histogram has ${counts.length} counts for ${boundsMs.length} bounds; expected one more count (+Inf)`,
    );
  }
  for (let i = 1; i < boundsMs.length; i++) {
    if (!(boundsMs[i]! > boundsMs[i - 1]!)) throw new HistoryError("latency histogram bounds must increase");
  }
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0)
    throw new HistoryError("latency histogram has no observations; no threshold can be derived");
  let cum = 0;
  for (let i = 0; i < boundsMs.length; i++) {
    cum += counts[i]!;
    if (cum >= quantile * total - 1e-9) {
      return { thresholdMs: boundsMs[i]!, quantile, fractionUnder: cum / total, observations: total };
    }
  }
  const last = boundsMs[boundsMs.length - 1]!;
  return {
    thresholdMs: last,
    quantile,
    fractionUnder: (total - counts[counts.length - 1]!) / total,
    observations: total,
    warning:
      `p${Math.round(quantile * 100)} is above the largest bucket (${last} ms); the threshold is set to ${last} ms. ` +
      `Add larger buckets to the histogram to place it properly.`,
  };
}

/** Sums a latency history into one histogram (the period's distribution). */
export function mergeLatencyHistory(lh: LatencyHistory): LatencyHistogram {
  const counts = new Array<number>(lh.boundsMs.length + 1).fill(0);
  for (const p of lh.points) {
    if (p.counts.length !== counts.length) {
      throw new HistoryError(
        `latency point at ${new Date(p.t).toISOString()} has ${p.counts.length} counts; expected ${counts.length}`,
      );
    }
    for (let i = 0; i < counts.length; i++) counts[i]! += p.counts[i]!;
  }
  return { boundsMs: [...lh.boundsMs], counts, sumMs: 0 };
}

/** Turns a latency history into a good/total SLI history: good = requests at or under the threshold. */
export function latencySliHistory(lh: LatencyHistory, thresholdMs: number): SliHistory {
  const idx = lh.boundsMs.indexOf(thresholdMs);
  if (idx < 0) {
    throw new HistoryError(
      `latency threshold ${thresholdMs} ms is not a bucket bound (${lh.boundsMs.join(", ")}); snap it with snapUpToBucket`,
    );
  }
  return {
    stepMs: lh.stepMs,
    source: lh.source,
    points: lh.points.map((p) => {
      let good = 0;
      let total = 0;
      for (let i = 0; i < p.counts.length; i++) {
        total += p.counts[i]!;
        if (i <= idx) good += p.counts[i]!;
      }
      return { t: p.t, good, total };
    }),
  };
}

/**
 * A latency SLI from histogram history: the threshold is the period's quantile snapped up to a bucket
 * bound, and good = requests at or under it.
 */
export function latencySli(
  lh: LatencyHistory,
  quantile = 0.95,
): { threshold: LatencyThreshold; history: SliHistory } {
  const threshold = latencyThreshold(mergeLatencyHistory(lh), quantile);
  return { threshold, history: latencySliHistory(lh, threshold.thresholdMs) };
}

/**
 * Builds a LatencyHistory from Prometheus-style cumulative buckets (`sum by (le) (increase(x_bucket[step]))`
 * per step). `leMs` are the finite bounds in ms, ascending; each point's `cumulative` has one count per bound
 * plus the `+Inf` count (= total). Small decreases from counter extrapolation are clamped to zero.
 */
export function latencyHistoryFromCumulative(input: {
  stepMs: number;
  leMs: number[];
  points: Array<{ t: number; cumulative: number[] }>;
  source?: string;
}): LatencyHistory {
  const { leMs } = input;
  for (let i = 1; i < leMs.length; i++) {
    if (!(leMs[i]! > leMs[i - 1]!)) throw new HistoryError("bucket bounds (le) must be finite and ascending");
  }
  return {
    stepMs: input.stepMs,
    boundsMs: [...leMs],
    source: input.source,
    points: input.points.map((p) => {
      if (p.cumulative.length !== leMs.length + 1) {
        throw new HistoryError(
          `point at ${new Date(p.t).toISOString()} has ${p.cumulative.length} cumulative counts; expected ` +
            `${leMs.length + 1} (one per le plus +Inf)`,
        );
      }
      let prev = 0;
      const counts = p.cumulative.map((c) => {
        const d = Math.max(0, c - prev);
        prev = Math.max(prev, c);
        return d;
      });
      return { t: p.t, counts };
    }),
  };
}
