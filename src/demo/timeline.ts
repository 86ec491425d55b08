/**
 * The period the demo covers and the shop's traffic shape. Counters cover (start, end]; step i (0-based)
 * covers (start + i·step, start + (i+1)·step] and its sample is stamped at the step's end.
 */

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

export interface Timeline {
  start: number;
  end: number;
  days: number;
  stepMs: number;
  steps: number;
  stepsPerHour: number;
  hours: number;
}

export function makeTimeline(end: number, days: number, stepSeconds: number): Timeline {
  if (!Number.isInteger(days) || days < 1 || days > 400) {
    throw new Error(`demo: days must be an integer from 1 to 400 (e.g. 28), got ${days}`);
  }
  if (!Number.isInteger(stepSeconds) || stepSeconds < 10 || 3600 % stepSeconds !== 0) {
    throw new Error(`demo: stepSeconds must divide an hour, e.g. 60, 300 or 900; got ${stepSeconds}`);
  }
  if (!Number.isFinite(end) || end % HOUR_MS !== 0) {
    throw new Error(
      `demo: end must be epoch milliseconds on a whole hour, e.g. ${Date.UTC(2026, 10, 23)} (2026-11-23T00:00:00Z); got ${end}`,
    );
  }
  const stepMs = stepSeconds * 1000;
  const steps = (days * DAY_MS) / stepMs;
  return {
    start: end - days * DAY_MS,
    end,
    days,
    stepMs,
    steps,
    stepsPerHour: 3600 / stepSeconds,
    hours: days * 24,
  };
}

/** Time stamped on step i's sample. */
export function stepEnd(tl: Timeline, i: number): number {
  return tl.start + (i + 1) * tl.stepMs;
}

/** Index of the step that contains time t (t in (start, end]). */
export function stepAt(tl: Timeline, t: number): number {
  return Math.min(tl.steps - 1, Math.max(0, Math.ceil((t - tl.start) / tl.stepMs) - 1));
}

/** The shop sells in Central Europe: local time is UTC+1. */
const TZ_OFFSET_HOURS = 1;

/** Two daily peaks (lunch, evening), a quiet night. */
function diurnalRaw(localHour: number): number {
  let v = 0.18;
  for (const [center, width, height] of [
    [12.5, 3.2, 0.55],
    [20.5, 2.6, 0.85],
    [9, 2, 0.25],
  ] as const) {
    let d = Math.abs(localHour - center);
    d = Math.min(d, 24 - d);
    v += height * Math.exp(-((d / width) ** 2));
  }
  return v;
}

/** Per local minute, normalized to mean 1. */
const DIURNAL: Float64Array = (() => {
  const table = Float64Array.from({ length: 1440 }, (_, m) => diurnalRaw(m / 60));
  const mean = table.reduce((s, x) => s + x, 0) / table.length;
  return table.map((x) => x / mean);
})();

/** Monday … Sunday; weekends sell more. Mean 1. */
const WEEKLY = [0.94, 0.93, 0.95, 0.97, 1.0, 1.08, 1.13];

/** Relative traffic at time t (mean ≈ 1 over whole weeks). */
export function trafficShape(t: number): number {
  const local = t + TZ_OFFSET_HOURS * HOUR_MS;
  const day = Math.floor(local / DAY_MS);
  const minute = Math.floor((local - day * DAY_MS) / 60_000);
  // 1970-01-01 was a Thursday (index 3 from Monday).
  return DIURNAL[minute]! * WEEKLY[(((day + 3) % 7) + 7) % 7]!;
}
