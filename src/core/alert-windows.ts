import { formatDuration } from "./duration.js";

/**
 * Multi-window multi-burn-rate (MWMB) alert windows, as in the SRE Workbook ch. 5 and Sloth's AlertWindows
 * catalog: for each SLO period, a page pair (quick, slow) and a ticket pair (quick, slow), each a short and a
 * long window and the share of the period's error budget that may burn in the long window. One model for
 * the generators (the alert rules) and analysis (the alert simulation), so both read a catalog alike.
 */

export interface AlertWindow {
  /** Share of the whole period's error budget, in percent, that burning at the factor uses in the long window. */
  errorBudgetPercent: number;
  shortWindowMs: number;
  longWindowMs: number;
}

export interface AlertWindows {
  periodMs: number;
  page: { quick: AlertWindow; slow: AlertWindow };
  ticket: { quick: AlertWindow; slow: AlertWindow };
}

export type Severity = "page" | "ticket";

/** One window pair of an SLO with its burn-rate factor worked out for the SLO's period. */
export interface BurnRateWindow {
  severity: Severity;
  speed: "quick" | "slow";
  shortWindowMs: number;
  longWindowMs: number;
  /** How many times faster than "exactly the budget over the period" the errors burn at the threshold. */
  factor: number;
}

export interface MwmbWindows {
  periodMs: number;
  pageQuick: BurnRateWindow;
  pageSlow: BurnRateWindow;
  ticketQuick: BurnRateWindow;
  ticketSlow: BurnRateWindow;
}

const H = 3_600_000;
const M = 60_000;
const D = 24 * H;

/**
 * The Workbook's recommended budget shares (2% in 1h, 5% in 6h, 10% in 1d, 10% in 3d) for a period. These
 * are the built-in catalog entries for 28d and 30d, and the fallback for other periods when no custom
 * catalog is given.
 */
export function googleWindows(periodMs: number): AlertWindows {
  return {
    periodMs,
    page: {
      quick: { errorBudgetPercent: 2, shortWindowMs: 5 * M, longWindowMs: H },
      slow: { errorBudgetPercent: 5, shortWindowMs: 30 * M, longWindowMs: 6 * H },
    },
    ticket: {
      quick: { errorBudgetPercent: 10, shortWindowMs: 2 * H, longWindowMs: D },
      slow: { errorBudgetPercent: 10, shortWindowMs: 6 * H, longWindowMs: 3 * D },
    },
  };
}

/**
 * Burn-rate factor = budget share x period / long window, computed in hours in the same order as Sloth so
 * the floats match bit for bit (28d gives 13.44, 5.6000000000000005, 2.8000000000000003, 0.9333333333333333).
 */
export function burnRateFactor(periodMs: number, errorBudgetPercent: number, longWindowMs: number): number {
  const hoursForShare = (errorBudgetPercent * (periodMs / H)) / 100;
  return hoursForShare / (longWindowMs / H);
}

export function mwmbWindows(windows: AlertWindows): MwmbWindows {
  const pair = (severity: Severity, speed: "quick" | "slow", w: AlertWindow): BurnRateWindow => ({
    severity,
    speed,
    shortWindowMs: w.shortWindowMs,
    longWindowMs: w.longWindowMs,
    factor: burnRateFactor(windows.periodMs, w.errorBudgetPercent, w.longWindowMs),
  });
  return {
    periodMs: windows.periodMs,
    pageQuick: pair("page", "quick", windows.page.quick),
    pageSlow: pair("page", "slow", windows.page.slow),
    ticketQuick: pair("ticket", "quick", windows.ticket.quick),
    ticketSlow: pair("ticket", "slow", windows.ticket.slow),
  };
}

export function burnRateWindows(w: MwmbWindows): BurnRateWindow[] {
  return [w.pageQuick, w.pageSlow, w.ticketQuick, w.ticketSlow];
}

/** Every distinct short and long window of the pairs, shortest first: the SLI recording windows. */
export function distinctWindows(w: MwmbWindows): number[] {
  const set = new Set<number>();
  for (const p of burnRateWindows(w)) {
    set.add(p.shortWindowMs);
    set.add(p.longWindowMs);
  }
  return [...set].sort((a, b) => a - b);
}

export class WindowsError extends Error {
  override name = "WindowsError";
}

/**
 * The alert-window catalog, keyed by period. `custom` replaces the built-in entries (as Sloth's
 * `--slo-period-windows-path` does); without it, periods other than 28d and 30d fall back to the Workbook
 * shares scaled to the period.
 */
export class WindowsCatalog {
  private readonly byPeriod = new Map<number, AlertWindows>();

  constructor(
    entries: AlertWindows[] = [googleWindows(28 * D), googleWindows(30 * D)],
    private readonly custom = false,
  ) {
    for (const e of entries) this.byPeriod.set(e.periodMs, e);
  }

  static custom(entries: AlertWindows[]): WindowsCatalog {
    const seen = new Set<number>();
    for (const e of entries) {
      if (seen.has(e.periodMs)) {
        throw new WindowsError(`the ${formatDuration(e.periodMs)} SLO period is defined twice`);
      }
      seen.add(e.periodMs);
    }
    return new WindowsCatalog(entries, true);
  }

  periods(): number[] {
    return [...this.byPeriod.keys()].sort((a, b) => a - b);
  }

  get(periodMs: number): AlertWindows {
    const found = this.byPeriod.get(periodMs);
    if (found) return found;
    if (!this.custom) return googleWindows(periodMs);
    const known = this.periods().map(formatDuration).join(", ") || "none";
    throw new WindowsError(
      `the ${formatDuration(periodMs)} SLO period has no alert windows in the custom catalog (it has: ${known}); add an AlertWindows file with sloPeriod: ${formatDuration(periodMs)}`,
    );
  }
}
