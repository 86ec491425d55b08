import { num } from "../../app/format.js";
import type { Flowchart, XyChart } from "../../app/view-diagrams.js";

/**
 * The view-model's diagrams (the same data the Markdown replies draw with mermaid) laid out as SVG
 * geometry for the console: plain numbers and strings, which the templates place into `<svg>` elements
 * with Handlebars' HTML escaping, so no markup is assembled here. Every chart carries its numbers as
 * table rows too, for readers who do not see it.
 */

const fixed = (n: number) => Math.round(n * 10) / 10;

// ─── xy charts (error budget) ───────────────────────────────────────────────────────────────────────

export interface SvgXyChart {
  title: string;
  width: number;
  height: number;
  plot: { x: number; y: number; width: number; height: number; bottom: number; right: number };
  xLabel: string;
  yLabel: string;
  yTicks: { y: number; label: string }[];
  /** Where 0 is, when the y range crosses it (a budget below it is overspent). */
  zeroY?: number;
  xTicks: { x: number; label: string }[];
  bars: { x: number; y: number; width: number; height: number; label: string }[];
  /** `points` is an SVG polyline's points attribute. */
  lines: { points: string }[];
  table: { header: string[]; rows: string[][] };
}

const XY = { width: 640, height: 290, left: 56, right: 16, top: 24, bottom: 48 } as const;
const Y_TICKS = 5;
const X_TICKS = 6;

export function xyChartSvg(chart: XyChart): SvgXyChart {
  const plot = {
    x: XY.left,
    y: XY.top,
    width: XY.width - XY.left - XY.right,
    height: XY.height - XY.top - XY.bottom,
  };
  const { min: yMin, max: yMax } = chart.y;
  const ySpan = yMax - yMin || 1;
  const yAt = (v: number) =>
    fixed(plot.y + plot.height - ((Math.min(Math.max(v, yMin), yMax) - yMin) / ySpan) * plot.height);
  const yTicks = Array.from({ length: Y_TICKS }, (_, i) => {
    const v = yMin + (ySpan * i) / (Y_TICKS - 1);
    return { y: yAt(v), label: num(v, 1) };
  });

  const categories = chart.x.categories;
  const count = categories?.length ?? Math.max(chart.bars?.length ?? 0, ...chart.lines.map((l) => l.length));
  let xAt: (i: number) => number;
  let xTicks: SvgXyChart["xTicks"];
  let xValue: (i: number) => string;
  if (categories) {
    // Bars and line points sit at the middle of each category's band.
    const band = plot.width / Math.max(1, count);
    xAt = (i) => fixed(plot.x + band * (i + 0.5));
    xTicks = categories.map((label, i) => ({ x: xAt(i), label }));
    xValue = (i) => categories[i] ?? "";
  } else {
    // A numeric axis: the series' points are evenly spaced from min to max, as mermaid draws them.
    const min = chart.x.min ?? 0;
    const max = chart.x.max ?? Math.max(1, count - 1);
    const step = count > 1 ? (max - min) / (count - 1) : 0;
    xAt = (i) => fixed(plot.x + (count > 1 ? (i / (count - 1)) * plot.width : plot.width / 2));
    xTicks = Array.from({ length: X_TICKS }, (_, i) => {
      const v = min + ((max - min) * i) / (X_TICKS - 1);
      return { x: fixed(plot.x + (i / (X_TICKS - 1)) * plot.width), label: num(v, 1) };
    });
    xValue = (i) => num(min + step * i, 2);
  }

  const barWidth = categories ? fixed(Math.min(48, (plot.width / Math.max(1, count)) * 0.6)) : 0;
  const base = yAt(Math.max(yMin, 0));
  const bars = (chart.bars ?? []).map((v, i) => {
    const top = yAt(v);
    return {
      x: fixed(xAt(i) - barWidth / 2),
      y: Math.min(top, base),
      width: barWidth,
      height: fixed(Math.abs(base - top)),
      label: `${xValue(i)}: ${num(v, 2)}`,
    };
  });
  const lines = chart.lines.map((values) => ({
    points: values.map((v, i) => `${xAt(i)},${yAt(v)}`).join(" "),
  }));

  // With bars, the line is the limit they are read against (the 100% a budget holds).
  const lineName = (i: number) =>
    chart.lines.length > 1 ? `line ${i + 1}` : chart.bars ? "limit" : chart.y.label;
  const cell = (v: number | undefined) => (v === undefined ? "" : num(v, 2));
  const header = [
    chart.x.label,
    ...(chart.bars ? [chart.y.label] : []),
    ...chart.lines.map((_, i) => lineName(i)),
  ];
  const rows = Array.from({ length: count }, (_, i) => [
    xValue(i),
    ...(chart.bars ? [cell(chart.bars[i])] : []),
    ...chart.lines.map((l) => cell(l[i])),
  ]);
  return {
    title: chart.title,
    width: XY.width,
    height: XY.height,
    plot: { ...plot, bottom: plot.y + plot.height, right: plot.x + plot.width },
    xLabel: chart.x.label,
    yLabel: chart.y.label,
    yTicks,
    ...(yMin < 0 && yMax > 0 ? { zeroY: yAt(0) } : {}),
    xTicks,
    bars,
    lines,
    table: { header, rows },
  };
}

// ─── journey graphs ──────────────────────────────────────────────────────────────────────────────────

export interface SvgGraph {
  title: string;
  width: number;
  height: number;
  nodes: {
    x: number;
    y: number;
    width: number;
    height: number;
    /** Centre of the box, where its text is anchored. */
    cx: number;
    cy: number;
    /** Clipped to fit the box; `label` is the whole name. */
    text: string;
    label: string;
    entry: boolean;
    focus: boolean;
  }[];
  edges: {
    path: string;
    labelX: number;
    labelY: number;
    /** SVG text-anchor of the label. */
    anchor: "start" | "end";
    label: string;
    from: string;
    to: string;
  }[];
  more: number;
}

const NODE = {
  width: 170,
  height: 40,
  columnGap: 160,
  rowGap: 28,
  margin: 12,
  maxChars: 24,
  loop: 40,
} as const;

const clipText = (s: string) => (s.length <= NODE.maxChars ? s : `${s.slice(0, NODE.maxChars - 1)}…`);

/**
 * Columns by call depth from the entry (breadth first, so a service reached twice sits at its first
 * depth), rows in the order the view-model lists them. A call to a service in a later column is a curve
 * from the caller's right side; a call back or within a column loops below the boxes.
 */
export function journeyGraphSvg(graph: Flowchart): SvgGraph {
  const labels = new Map<string, { label: string; focus: boolean; entry: boolean }>([
    [graph.entry.id, { label: graph.entry.label, focus: false, entry: true }],
    ...graph.nodes.map((n) => [n.id, { label: n.label, focus: n.focus, entry: false }] as const),
  ]);
  const depth = new Map<string, number>([[graph.entry.id, 0]]);
  const queue = [graph.entry.id];
  while (queue.length > 0) {
    const at = queue.shift()!;
    for (const e of graph.edges) {
      if (e.from === at && !depth.has(e.to)) {
        depth.set(e.to, depth.get(at)! + 1);
        queue.push(e.to);
      }
    }
  }
  const deepest = Math.max(...depth.values());
  for (const id of labels.keys()) if (!depth.has(id)) depth.set(id, deepest + 1);

  const columns = new Map<number, string[]>();
  for (const id of labels.keys()) {
    const d = depth.get(id)!;
    columns.set(d, [...(columns.get(d) ?? []), id]);
  }
  const place = new Map<string, { x: number; y: number }>();
  for (const [d, ids] of columns) {
    ids.forEach((id, row) => {
      place.set(id, {
        x: NODE.margin + d * (NODE.width + NODE.columnGap),
        y: NODE.margin + row * (NODE.height + NODE.rowGap),
      });
    });
  }
  const columnCount = Math.max(...columns.keys()) + 1;
  const rowCount = Math.max(...[...columns.values()].map((ids) => ids.length));
  // The last column's loops and labels reach past its boxes.
  const width =
    2 * NODE.margin + columnCount * NODE.width + (columnCount - 1) * NODE.columnGap + NODE.loop + 110;
  const height = 2 * NODE.margin + rowCount * NODE.height + (rowCount - 1) * NODE.rowGap;

  const nodes = [...labels].map(([id, n]) => {
    const p = place.get(id)!;
    return {
      ...p,
      width: NODE.width,
      height: NODE.height,
      cx: p.x + NODE.width / 2,
      cy: p.y + NODE.height / 2,
      text: clipText(n.label),
      label: n.label,
      entry: n.entry,
      focus: n.focus,
    };
  });

  const edges = graph.edges.map((e): SvgGraph["edges"][number] => {
    const a = place.get(e.from)!;
    const b = place.get(e.to)!;
    const from = labels.get(e.from)!.label;
    const to = labels.get(e.to)!.label;
    if (depth.get(e.to)! > depth.get(e.from)!) {
      const [x1, y1] = [a.x + NODE.width, a.y + NODE.height / 2];
      const [x2, y2] = [b.x, b.y + NODE.height / 2];
      const dx = (x2 - x1) / 2;
      // The label sits just before the arrow, where edges fanning out of one box have drawn apart.
      return {
        path: `M${x1},${y1} C${x1 + dx},${y1} ${x2 - dx},${y2} ${x2},${y2}`,
        labelX: x2 - 6,
        labelY: y2 - 6,
        anchor: "end",
        label: e.label,
        from,
        to,
      };
    }
    // A call within a column or back to an earlier one loops out to the right of the caller's column.
    const [x1, y1] = [a.x + NODE.width, a.y + NODE.height / 2 + 6];
    const [x2, y2] = [b.x + NODE.width, b.y + NODE.height / 2 - 6];
    const out = Math.max(x1, x2) + NODE.loop;
    return {
      path: `M${x1},${y1} C${out},${y1} ${out},${y2} ${x2},${y2}`,
      labelX: fixed(out - NODE.loop / 4 + 4),
      labelY: fixed((y1 + y2) / 2 + 4),
      anchor: "start",
      label: e.label,
      from,
      to,
    };
  });
  return { title: graph.title, width, height, nodes, edges, more: graph.more };
}
