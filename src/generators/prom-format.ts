/**
 * Number and duration formatting as Prometheus and Sloth (Go) print them, so generated rules read the same
 * as Sloth's and rule names such as `slo:sli_error:ratio_rate4w` come out identical.
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

/** Shortest round-trip digits and decimal exponent of a finite number (like Go's strconv shortest mode). */
function shortest(n: number): { negative: boolean; digits: string; exp: number } {
  const [mant, e] = Math.abs(n).toExponential().split("e") as [string, string];
  return { negative: n < 0, digits: mant.replace(".", ""), exp: Number(e) };
}

/** Go's `%g` / `%v` for a float64 (what Sloth's templates print): `0.9990000000000001`, `14.4`, `1e-05`. */
export function goFloat(n: number): string {
  if (!Number.isFinite(n)) return n > 0 ? "+Inf" : n < 0 ? "-Inf" : "NaN";
  if (n === 0) return "0";
  const { negative, digits, exp } = shortest(n);
  const sign = negative ? "-" : "";
  // Go switches to an exponent below 1e-4 and from 1e6 on when printing the shortest form.
  if (exp < -4 || exp >= 6) {
    const mant = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const es = exp < 0 ? "-" : "+";
    return `${sign}${mant}e${es}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  return sign + plainDecimal(digits, exp);
}

/** Go's `strconv.FormatFloat(n, 'f', -1, 64)`: shortest digits, never an exponent (`99.9`, `95`). */
export function goFloatPlain(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (n === 0) return "0";
  const { negative, digits, exp } = shortest(n);
  return (negative ? "-" : "") + plainDecimal(digits, exp);
}

function plainDecimal(digits: string, exp: number): string {
  if (exp < 0) return `0.${"0".repeat(-exp - 1)}${digits}`;
  if (digits.length <= exp + 1) return digits + "0".repeat(exp + 1 - digits.length);
  return `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
}
