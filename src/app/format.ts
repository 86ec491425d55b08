/**
 * Number and time formats shared by the view-models (graph and chart labels) and the Markdown helpers,
 * so a target reads the same in a table, a chart title and a chat reply. Fixed to en-US and UTC: a
 * comment is read by people in many places, and snapshots must not depend on the machine's locale.
 */

const decimals = (digits: number) =>
  new Intl.NumberFormat("en-US", { maximumFractionDigits: digits, useGrouping: true });
const BY_DIGITS = [0, 1, 2, 3, 4].map(decimals);

/** A number with at most `digits` decimals and thousands separators: `10,148`, `0.35`. */
export function num(n: number, digits = 0): string {
  const format = BY_DIGITS[digits] ?? decimals(digits);
  // `-0` would print as "-0" after rounding a tiny negative value.
  return format.format(n).replace(/^-0$/, "0");
}

/** A value already in percent: 99.9 → `99.9%`, 0.0500000001 → `0.05%`. */
export function pct(percent: number, digits = 3): string {
  return `${num(percent, digits)}%`;
}

/** A fraction as percent: 0.01 → `1%`. */
export function share(fraction: number, digits = 2): string {
  return pct(fraction * 100, digits);
}

/** Epoch ms as a UTC minute: `2026-11-15 00:00Z`. */
export function utc(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16).replace("T", " ").concat("Z");
}

/** A duration in ms the way a person says it: `3 h`, `1.5 d`, `45 min`. */
export function span(ms: number): string {
  const minutes = ms / 60_000;
  if (minutes < 90) return `${num(minutes)} min`;
  if (minutes < 48 * 60) return `${num(minutes / 60, 1)} h`;
  return `${num(minutes / 1440, 1)} d`;
}

/** Free text from telemetry, cut so one value cannot fill a reply. */
export function clip(s: string, max = 300): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}
