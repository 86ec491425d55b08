/**
 * Prometheus durations (`model.Duration`: `5m`, `1d12h`, `4w`), the one duration grammar of SLO-Scout:
 * SLO windows and periods, rule `for`s and intervals, CLI flags and chat commands all read and print
 * durations this way, so rule names such as `slo:sli_error:ratio_rate4w` come out as Sloth's and a
 * duration a user typed means the same everywhere.
 */

const MS = { y: 365 * 86_400_000, w: 7 * 86_400_000, d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1 };

const DURATION_RE = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;

/** Parses a Prometheus duration (`5m`, `1d12h`, `4w`) to milliseconds; undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  if (text === "0") return 0;
  const m = DURATION_RE.exec(text.trim());
  if (!m || text.trim() === "") return undefined;
  const units = [MS.y, MS.w, MS.d, MS.h, MS.m, MS.s, MS.ms];
  let total = 0;
  let any = false;
  for (let i = 0; i < units.length; i++) {
    const v = m[i + 1];
    if (v !== undefined) {
      total += Number(v) * units[i]!;
      any = true;
    }
  }
  return any ? total : undefined;
}

/**
 * Formats milliseconds the way Prometheus' model.Duration does: years and weeks only when exact (so 30d
 * stays `30d` and 28d becomes `4w`), then days, hours, minutes, seconds, milliseconds.
 */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  let rest = Math.round(ms);
  let out = "";
  const unit = (name: string, mult: number, exact: boolean) => {
    if (exact && rest % mult !== 0) return;
    const v = Math.floor(rest / mult);
    if (v > 0) {
      out += `${v}${name}`;
      rest -= v * mult;
    }
  };
  unit("y", MS.y, true);
  unit("w", MS.w, true);
  unit("d", MS.d, false);
  unit("h", MS.h, false);
  unit("m", MS.m, false);
  unit("s", MS.s, false);
  unit("ms", MS.ms, false);
  return out;
}
