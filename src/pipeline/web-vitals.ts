import type { WebVitalStats } from "../core/aggregates.js";
import type { RumEvent } from "../core/telemetry.js";
import { TumblingWindows, type WindowOptions } from "./windows.js";

type Vital = WebVitalStats["metric"];

/**
 * Bucket bounds per web vital, in the vital's unit (ms; CLS unitless), chosen so Google's "good" and
 * "poor" thresholds (LCP 2.5 s / 4 s, INP 200 / 500 ms, CLS 0.1 / 0.25, FCP 1.8 / 3 s, TTFB 0.8 / 1.8 s)
 * are bucket boundaries and an SLI "share of page loads under the good threshold" is exact.
 */
export const VITAL_BOUNDS: Record<Vital, number[]> = {
  LCP: [500, 1000, 1500, 2000, 2500, 3000, 4000, 6000, 10000],
  INP: [50, 100, 200, 300, 500, 1000, 2000],
  CLS: [0.01, 0.05, 0.1, 0.15, 0.25, 0.5, 1],
  FCP: [500, 1000, 1800, 2500, 3000, 5000],
  TTFB: [100, 200, 400, 800, 1200, 1800, 3000],
  FID: [50, 100, 200, 300, 500, 1000],
};

export const GOOD_THRESHOLD: Record<Vital, number> = {
  LCP: 2500,
  INP: 200,
  CLS: 0.1,
  FCP: 1800,
  TTFB: 800,
  FID: 100,
};

const NAMES: Record<string, Vital> = {
  lcp: "LCP",
  inp: "INP",
  cls: "CLS",
  fcp: "FCP",
  ttfb: "TTFB",
  fid: "FID",
  largest_contentful_paint: "LCP",
  interaction_to_next_paint: "INP",
  cumulative_layout_shift: "CLS",
  first_contentful_paint: "FCP",
  time_to_first_byte: "TTFB",
  first_input_delay: "FID",
};

/** Web-vital values in a RUM measurement, keyed by vital (Faro sends `{ lcp: 1234 }` under type "web-vitals"). */
export function vitalsOf(rum: RumEvent): [Vital, number][] {
  if (rum.type !== "measurement") return [];
  const out: [Vital, number][] = [];
  for (const [k, v] of Object.entries(rum.values)) {
    const vital = NAMES[k.toLowerCase()];
    if (vital && Number.isFinite(v) && v >= 0) out.push([vital, v]);
  }
  return out;
}

/** Pages fold query strings and id-like segments so one route is one row. */
export function pageKey(page: string | undefined): string {
  if (!page) return "(unknown)";
  let path = page.split(/[?#]/)[0]!;
  try {
    path = decodeURI(new URL(page, "http://x").pathname);
  } catch {
    // not a URL: keep the text before any query string
  }
  return path
    .split("/")
    .map((seg) => (/^(?:\d+|[0-9a-f]{8,}|[0-9a-f-]{32,36})$/i.test(seg) ? ":id" : seg))
    .join("/");
}

export class WebVitalAggregates {
  readonly windows: TumblingWindows<WebVitalStats>;

  constructor(options: WindowOptions) {
    this.windows = new TumblingWindows<WebVitalStats>(options, (key, windowStart) => {
      const [service, page, metric] = key.split("\u0000") as [string, string, Vital];
      const bounds = VITAL_BOUNDS[metric];
      return {
        service,
        page,
        metric,
        windowStart,
        count: 0,
        histogram: { bounds: [...bounds], counts: new Array(bounds.length + 1).fill(0), sum: 0 },
      };
    });
  }

  /** How many of the event's vital values were added to a window, and how many were too late. */
  apply(service: string, time: number, rum: RumEvent): { applied: number; late: number } {
    let applied = 0;
    let late = 0;
    const page = pageKey(rum.page);
    for (const [vital, value] of vitalsOf(rum)) {
      const r = this.windows.add(
        [service, page, vital].join("\u0000"),
        time,
        (s) => {
          let i = 0;
          while (i < s.histogram.bounds.length && value > s.histogram.bounds[i]!) i++;
          s.histogram.counts[i]!++;
          s.histogram.sum += value;
          s.count++;
        },
        service,
      );
      if (r === "late") late++;
      else applied++;
    }
    return { applied, late };
  }
}
