import { writeFileSync } from "node:fs";
import { chromium } from "playwright-core";
import { memorySummary, type Proc, type RunReport } from "./report.js";
import { RECEIVERS, type Receiver } from "./tally.js";

/**
 * The soak's plot: the server's resident memory (top; both processes' when the receivers and the worker
 * ran apart) and the acknowledged records per second of each
 * receiver (bottom) over the run, with the faults shaded. Drawn as SVG here, saved beside the PNG, and
 * turned into the PNG by headless Chromium (Debian's, driven by playwright-core, as the console's browser
 * test does; CHROMIUM_PATH names another binary).
 */

const W = 960;
const PANEL_H = 220;
const LEFT = 70;
const RIGHT = 170;
const TOP = 56;
const GAP = 50;
const COLORS: Record<Receiver, string> = {
  "otlp-logs": "#1f77b4",
  fluentbit: "#17becf",
  "otlp-spans": "#d62728",
  "remote-write": "#2ca02c",
  faro: "#9467bd",
};

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** Round axis maximum: 1, 2 or 5 times a power of ten at or above `v`. */
function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return ([1, 2, 5, 10].find((m) => m * p >= v) ?? 10) * p;
}

function panel(
  y0: number,
  title: string,
  xMax: number,
  yMax: number,
  yFormat: (v: number) => string,
  r: RunReport,
  series: { name: string; color: string; points: [number, number | undefined][] }[],
): string {
  const plotW = W - LEFT - RIGHT;
  const x = (t: number) => LEFT + (t / xMax) * plotW;
  const y = (v: number) => y0 + PANEL_H - (v / yMax) * PANEL_H;
  const parts: string[] = [];
  parts.push(`<text x="${LEFT}" y="${y0 - 10}" class="title">${esc(title)}</text>`);
  for (const f of r.faults) {
    parts.push(
      `<rect x="${x(f.startS)}" y="${y0}" width="${Math.max(2, x(f.endS) - x(f.startS))}" height="${PANEL_H}" fill="#f5b041" opacity="0.35"/>`,
    );
  }
  for (let i = 0; i <= 4; i++) {
    const v = (yMax * i) / 4;
    parts.push(`<line x1="${LEFT}" x2="${LEFT + plotW}" y1="${y(v)}" y2="${y(v)}" class="grid"/>`);
    parts.push(`<text x="${LEFT - 6}" y="${y(v) + 4}" class="tick" text-anchor="end">${yFormat(v)}</text>`);
  }
  const step = xMax > 900 ? 120 : xMax > 300 ? 60 : 15;
  for (let t = 0; t <= xMax; t += step) {
    parts.push(
      `<line x1="${x(t)}" x2="${x(t)}" y1="${y0 + PANEL_H}" y2="${y0 + PANEL_H + 4}" class="axis"/>`,
    );
    parts.push(
      `<text x="${x(t)}" y="${y0 + PANEL_H + 16}" class="tick" text-anchor="middle">${t / 60} min</text>`,
    );
  }
  parts.push(`<rect x="${LEFT}" y="${y0}" width="${plotW}" height="${PANEL_H}" fill="none" class="axis"/>`);
  series.forEach((s, i) => {
    let d = "";
    let pen = false;
    for (const [t, v] of s.points) {
      if (v === undefined) {
        pen = false;
        continue;
      }
      d += `${pen ? "L" : "M"}${x(t).toFixed(1)},${y(Math.min(v, yMax)).toFixed(1)}`;
      pen = true;
    }
    parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.6"/>`);
    const ly = y0 + 12 + i * 18;
    parts.push(
      `<line x1="${W - RIGHT + 12}" x2="${W - RIGHT + 32}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="3"/>`,
    );
    parts.push(`<text x="${W - RIGHT + 38}" y="${ly + 4}" class="tick">${esc(s.name)}</text>`);
  });
  return parts.join("\n");
}

export function renderSvg(r: RunReport): string {
  const xMax = Math.max(60, Math.ceil(r.loadEndS / 60) * 60);
  const mem = memorySummary(r);
  const rssMax = niceMax(
    Math.max(...r.samples.map((s) => Math.max(s.rssMiB ?? 0, s.workerRssMiB ?? 0))) * 1.1,
  );
  const shown = r.samples.filter((s) => s.t <= xMax);
  const peak = (p: Proc) => Math.round(memorySummary(r, p).peak);
  const top = panel(
    TOP,
    r.split
      ? `Resident memory (MiB), peak: receivers + API ${peak("server")}, worker ${peak("worker")}`
      : `Server resident memory (MiB): start ${Math.round(mem.start)}, peak ${Math.round(mem.peak)}, end of load ${Math.round(mem.end)}`,
    xMax,
    rssMax,
    (v) => String(Math.round(v)),
    r,
    [
      {
        name: r.split ? "receivers + API" : "RSS",
        color: "#444",
        points: shown.map((s) => [s.t, s.rssMiB] as [number, number | undefined]),
      },
      ...(r.split
        ? [
            {
              name: "worker",
              color: "#e377c2",
              points: shown.map((s) => [s.t, s.workerRssMiB] as [number, number | undefined]),
            },
          ]
        : []),
    ],
  );
  const receivers = RECEIVERS.filter((rec) => r.receivers[rec].target > 0);
  const rateMax = niceMax(
    Math.max(...r.throughput.flatMap((b) => receivers.map((rec) => b.rates[rec] ?? 0))) * 1.05,
  );
  const k = (v: number) => (v >= 1000 ? `${Math.round(v / 1000)}k` : String(Math.round(v)));
  const bottom = panel(
    TOP + PANEL_H + GAP,
    "Acknowledged records per second (5 s bins)",
    xMax,
    rateMax,
    k,
    r,
    receivers.map((rec) => ({
      name: `${rec} (${r.receivers[rec].unit})`,
      color: COLORS[rec],
      points: r.throughput.map((b) => [b.t + 2.5, b.rates[rec] ?? 0] as [number, number]),
    })),
  );
  const h = TOP + 2 * PANEL_H + GAP + 60;
  const faults = r.faults.map((f) => `${f.label} ${Math.round(f.startS)}–${Math.round(f.endS)} s`).join("; ");
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${h}" viewBox="0 0 ${W} ${h}">
<style>
text { font-family: "DejaVu Sans", sans-serif; fill: #222; }
.title { font-size: 13px; font-weight: bold; }
.tick { font-size: 11px; }
.grid { stroke: #ddd; stroke-width: 1; }
.axis { stroke: #888; stroke-width: 1; }
</style>
<rect width="100%" height="100%" fill="#fff"/>
<text x="${LEFT}" y="20" class="title">bench:soak ${r.config}: ${esc(r.title.replace(/`/g, ""))}, ${r.minutes} min</text>
${top}
${bottom}
<text x="${LEFT}" y="${h - 14}" class="tick">Shaded: ${esc(faults)}</text>
</svg>
`;
}

export async function renderPng(r: RunReport, path: string): Promise<void> {
  const svg = renderSvg(r);
  writeFileSync(path.replace(/\.png$/, ".svg"), svg);
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium" });
  try {
    const page = await browser.newPage({ viewport: { width: W, height: 600 } });
    await page.setContent(`<!doctype html><body style="margin:0">${svg}</body>`);
    await page.locator("svg").screenshot({ path });
  } finally {
    await browser.close();
  }
}
