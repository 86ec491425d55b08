/**
 * Number formatting as Prometheus and Sloth (Go) print it, so generated rules read the same as Sloth's.
 * Durations are in src/core/duration.ts.
 */

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
