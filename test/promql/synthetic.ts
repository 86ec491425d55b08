import type { RawSeries } from "../../src/promql/types.js";

/**
 * A deterministic checkout service for dry-run tests: request counters scraped every minute (15 s past
 * the minute, so samples never sit on an evaluation boundary), ~10 req/s, a trickle of errors, and
 * incidents at known times — a fast burst, a slow burn, a process restart (counter reset) and a scrape gap.
 */

export const DAY = 86_400_000;
const MIN = 60_000;
/** 2025-06-01T00:00:00Z */
export const T0 = Date.UTC(2025, 5, 1);

export const INCIDENTS = {
  /** 33% errors for 25 minutes: must page. */
  fastBurst: { start: T0 + DAY + 10 * 3_600_000, end: T0 + DAY + 10 * 3_600_000 + 25 * MIN },
  /** 0.83% errors for 6 hours: a slow burn. */
  slowBurn: { start: T0 + 2 * DAY + 2 * 3_600_000, end: T0 + 2 * DAY + 8 * 3_600_000 },
  /** Both counters restart from zero. */
  restart: T0 + 2 * DAY + 12 * 3_600_000,
  /** No scrapes for 20 minutes. */
  gap: { start: T0 + 3 * DAY, end: T0 + 3 * DAY + 20 * MIN },
};

export function checkoutSeries(days = 4): RawSeries[] {
  const t: number[] = [];
  const ok: number[] = [];
  const err: number[] = [];
  const other: number[] = [];
  let okTotal = 0;
  let errTotal = 0;
  let otherTotal = 0;
  for (let i = 0; i < (days * DAY) / MIN; i++) {
    const ts = T0 + i * MIN + 15_000;
    if (ts >= INCIDENTS.restart && ts - MIN < INCIDENTS.restart) {
      okTotal = 0;
      errTotal = 0;
    }
    let errors = i % 10 === 0 ? 1 : 0;
    if (ts >= INCIDENTS.fastBurst.start && ts < INCIDENTS.fastBurst.end) errors = 200;
    if (ts >= INCIDENTS.slowBurn.start && ts < INCIDENTS.slowBurn.end) errors = 5;
    okTotal += 600 - errors;
    errTotal += errors;
    otherTotal += 50;
    if (ts >= INCIDENTS.gap.start && ts < INCIDENTS.gap.end) continue;
    t.push(ts);
    ok.push(okTotal);
    err.push(errTotal);
    other.push(otherTotal);
  }
  return [
    { labels: { __name__: "http_requests_total", job: "checkout", code: "200" }, timestamps: t, values: ok },
    { labels: { __name__: "http_requests_total", job: "checkout", code: "500" }, timestamps: t, values: err },
    // Another job's errors: the SLI's job matcher must keep them out.
    { labels: { __name__: "http_requests_total", job: "search", code: "500" }, timestamps: t, values: other },
  ];
}
