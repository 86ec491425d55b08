import { describe, expect, it } from "vitest";
import type { Flowchart, XyChart } from "../../../src/app/view-diagrams.js";
import { journeyGraphSvg, xyChartSvg } from "../../../src/server/console/charts.js";

/** The console's SVG geometry: what is drawn where, and the numbers a reader without the chart gets. */

const points = (s: string) => s.split(" ").map((p) => p.split(",").map(Number) as [number, number]);

describe("xyChartSvg", () => {
  const bars: XyChart = {
    title: "budget used",
    x: { label: "proposal", categories: ["#1", "#2", "#3"] },
    y: { label: "budget used %", min: 0, max: 200 },
    bars: [50, 200, 0],
    lines: [[100, 100, 100]],
  };

  it("draws bars from the axis up to their value, and the limit line across them", () => {
    const svg = xyChartSvg(bars);
    const { y: top, bottom } = svg.plot;
    expect(svg.bars.map((b) => b.y + b.height)).toEqual([bottom, bottom, bottom]);
    expect(svg.bars[1]!.y).toBe(top);
    expect(svg.bars[0]!.height).toBeCloseTo((bottom - top) / 4, 0);
    expect(svg.bars[2]!.height).toBe(0);
    const line = points(svg.lines[0]!.points);
    expect(line.map(([, y]) => y)).toEqual(Array(3).fill((top + bottom) / 2));
    expect(line.map(([x]) => x)).toEqual(svg.bars.map((b) => b.x + b.width / 2));
    expect(svg.table).toEqual({
      header: ["proposal", "budget used %", "limit"],
      rows: [
        ["#1", "50", "100"],
        ["#2", "200", "100"],
        ["#3", "0", "100"],
      ],
    });
  });

  it("spreads a numeric axis's points from its min to its max, and keeps values outside the y range on the plot", () => {
    const curve: XyChart = {
      title: "budget remaining",
      x: { label: "days", min: 0, max: 7 },
      y: { label: "budget remaining %", min: -20, max: 100 },
      lines: [[100, 50, -80]],
    };
    const svg = xyChartSvg(curve);
    const line = points(svg.lines[0]!.points);
    expect(line.map(([x]) => x)).toEqual([svg.plot.x, svg.plot.x + svg.plot.width / 2, svg.plot.right]);
    expect(line[0]![1]).toBe(svg.plot.y);
    expect(line[2]![1]).toBe(svg.plot.bottom);
    expect(svg.table.rows.map((r) => r[0])).toEqual(["0", "3.5", "7"]);
    expect(svg.xTicks.at(-1)?.label).toBe("7");
    expect(svg.zeroY).toBeCloseTo(svg.plot.y + (svg.plot.height * 100) / 120, 0);
    expect(xyChartSvg({ ...curve, y: { ...curve.y, min: 0 } }).zeroY).toBeUndefined();
  });
});

describe("journeyGraphSvg", () => {
  const graph: Flowchart = {
    title: "frontend POST /api/checkout",
    entry: { id: "n0", label: "POST /api/checkout" },
    nodes: [
      { id: "n1", label: "frontend", focus: false },
      { id: "n2", label: "checkout", focus: true },
      { id: "n3", label: "payment", focus: false },
      { id: "n4", label: "a-service-name-far-longer-than-a-box-can-hold", focus: false },
    ],
    edges: [
      { from: "n0", to: "n1", label: "10 requests" },
      { from: "n1", to: "n2", label: "10 calls" },
      { from: "n2", to: "n3", label: "9 calls" },
      { from: "n2", to: "n4", label: "4 calls" },
      { from: "n3", to: "n4", label: "2 calls" },
    ],
    more: 0,
  };

  it("puts each service in the column of its call depth, the entry first", () => {
    const svg = journeyGraphSvg(graph);
    const x = Object.fromEntries(svg.nodes.map((n) => [n.label, n.x]));
    expect(x["POST /api/checkout"]).toBeLessThan(x.frontend!);
    expect(x.frontend).toBeLessThan(x.checkout!);
    expect(x.payment).toBe(x["a-service-name-far-longer-than-a-box-can-hold"]);
    for (const n of svg.nodes) {
      expect(n.x + n.width).toBeLessThanOrEqual(svg.width);
      expect(n.y + n.height).toBeLessThanOrEqual(svg.height);
    }
    expect(svg.nodes.find((n) => n.focus)?.label).toBe("checkout");
    expect(svg.nodes.find((n) => n.entry)?.label).toBe("POST /api/checkout");
  });

  it("clips a long name in its box and keeps it whole for the tooltip and the table", () => {
    const long = journeyGraphSvg(graph).nodes.find((n) => n.label.startsWith("a-service"))!;
    expect(long.text.length).toBeLessThanOrEqual(24);
    expect(long.text.endsWith("…")).toBe(true);
    expect(journeyGraphSvg(graph).edges.at(-1)).toMatchObject({
      from: "payment",
      to: "a-service-name-far-longer-than-a-box-can-hold",
    });
  });

  it("loops a call within one column out to the right instead of through the boxes", () => {
    const svg = journeyGraphSvg(graph);
    const within = svg.edges.at(-1)!;
    const column = svg.nodes.find((n) => n.label === "payment")!;
    expect(within.anchor).toBe("start");
    expect(within.labelX).toBeGreaterThan(column.x + column.width);
    const forward = svg.edges[1]!;
    expect(forward.path).toMatch(/^M[\d.]+,[\d.]+ C/);
    expect(forward.anchor).toBe("end");
  });
});
