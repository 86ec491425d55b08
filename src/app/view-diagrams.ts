import type { Simulation } from "../analysis/simulate.js";
import type { Journey } from "../core/journey.js";
import { clip, num, pct, share, utc } from "./format.js";

/**
 * The diagrams of a reply as data: a journey's calls as a flowchart and the error budget as an xy chart.
 * Node ids are generated and labels are plain text (the renderer escapes them), so any service name is
 * safe; edges and points are capped so a diagram stays readable.
 */

const MAX_EDGES = 30;
const MAX_POINTS = 60;
const MAX_LABEL = 120;

/** A mermaid `xychart-beta`: categories or a numeric range on x, one bar series and/or lines. */
export interface XyChart {
  title: string;
  x: { label: string; categories?: string[]; min?: number; max?: number };
  y: { label: string; min: number; max: number };
  bars?: number[];
  lines: number[][];
}

const round2 = (n: number) => Math.round(n * 100) / 100;

/**
 * The analysis has no budget curve over time (only `simulate` replays one), so its chart shows what the
 * backtest does hold: the share of the budget the worst window used at each recommended target, against
 * the 100% line where the budget runs out.
 */
export function backtestChart(
  proposals: { n: number; worstWindowBudgetUsed?: number; historyDays: number }[],
  window: string,
): XyChart | undefined {
  const charted = proposals.filter((p) => p.worstWindowBudgetUsed !== undefined);
  if (charted.length === 0) return undefined;
  const used = charted.map((p) => round2(p.worstWindowBudgetUsed! * 100));
  const days = charted.map((p) => p.historyDays);
  const [fewest, most] = [num(Math.min(...days), 1), num(Math.max(...days), 1)];
  return {
    title: `Backtest over ${fewest === most ? most : `${fewest}–${most}`} days of history: error budget used by the worst ${window} window at the recommended target`,
    x: { label: "proposal", categories: charted.map((p) => `#${p.n}`) },
    y: { label: "budget used %", min: 0, max: Math.max(100, Math.ceil(Math.max(...used) / 10) * 10) },
    bars: used,
    lines: [used.map(() => 100)],
  };
}

/** Every k-th point, ending on the newest, so a long replay still draws as at most `max` points. */
function thin<T>(points: T[], max: number): T[] {
  const every = Math.ceil(points.length / max);
  return points.filter((_, i) => (points.length - 1 - i) % every === 0);
}

export function budgetCurveChart(sim: Simulation): XyChart | undefined {
  const points = thin(sim.points, MAX_POINTS);
  const first = points[0];
  const last = points.at(-1);
  if (!first || !last || points.length < 2) return undefined;
  const remaining = points.map((p) => round2(p.budgetRemaining * 100));
  const lowest = Math.min(0, ...remaining);
  return {
    title: `Error budget remaining at ${pct(sim.target)} over a trailing ${sim.windowDays}d window, ${utc(first.t)} to ${utc(last.t)}`,
    x: { label: "days", min: 0, max: round2((last.t - first.t) / 86_400_000) },
    y: { label: "budget remaining %", min: Math.floor(lowest / 10) * 10, max: 100 },
    lines: [remaining],
  };
}

/** A mermaid flowchart: node ids are generated (`n0`, `n1`, …) so any service name is safe as a label. */
export interface Flowchart {
  title: string;
  entry: { id: string; label: string };
  nodes: { id: string; label: string; focus: boolean }[];
  edges: { from: string; to: string; label: string }[];
  /** Service pairs not drawn, to keep the graph readable. */
  more: number;
}

function callLabel(calls: number, errorShare: number, unit: string): string {
  return errorShare > 0 ? `${num(calls)} ${unit} · ${share(errorShare)} errors` : `${num(calls)} ${unit}`;
}

/** One journey's graph: its entry route, then each service pair with all of its operations' calls. */
export function journeyGraph(j: Journey, focus: string): Flowchart {
  const ids = new Map<string, string>();
  const idOf = (service: string) => {
    let id = ids.get(service);
    if (!id) {
      id = `n${ids.size + 1}`;
      ids.set(service, id);
    }
    return id;
  };
  idOf(j.service);
  const pairs = new Map<string, { from: string; to: string; calls: number; bad: number }>();
  for (const e of j.downstream) {
    const key = `${e.from}\u0000${e.to}`;
    const pair = pairs.get(key) ?? { from: e.from, to: e.to, calls: 0, bad: 0 };
    pair.calls += e.calls;
    pair.bad += e.calls * e.errorShare;
    pairs.set(key, pair);
  }
  const sorted = [...pairs.values()].sort((a, b) => b.calls - a.calls);
  const edges = sorted.slice(0, MAX_EDGES).map((p) => ({
    from: idOf(p.from),
    to: idOf(p.to),
    label: callLabel(p.calls, p.calls > 0 ? p.bad / p.calls : 0, "calls"),
  }));
  const entryLabel = [j.method, j.route].filter(Boolean).join(" ") || j.key;
  return {
    title: clip(j.key, MAX_LABEL),
    entry: { id: "n0", label: clip(entryLabel, MAX_LABEL) },
    nodes: [...ids].map(([service, id]) => ({
      id,
      label: clip(service, MAX_LABEL),
      focus: service === focus,
    })),
    edges: [
      { from: "n0", to: idOf(j.service), label: callLabel(j.requests, j.errorShare, "requests") },
      ...edges,
    ],
    more: Math.max(0, sorted.length - MAX_EDGES),
  };
}
