import { isIP } from "node:net";

/**
 * PII redaction, applied to every message before it is fingerprinted, stored, embedded or sent on.
 * Each finding is replaced by a typed placeholder (`<EMAIL>`, `<IP>`, `<CARD>`, `<SECRET>`, `<PHONE>`,
 * or `<REDACTED>`/`<NAME>` for configured patterns); the fingerprinter treats placeholders as variables.
 *
 * The rules favour precision on ordinary log text: card numbers must pass Luhn and carry a card-network
 * prefix (so 13-digit epoch milliseconds survive), phone numbers need phone punctuation or a `+`, and
 * "high-entropy" secrets must mix letters and digits and not be plain hex ids (trace ids stay readable).
 * Every rule has a cheap pre-check, so a line without `@`, digits or secret-like words costs little.
 */

export type PiiKind = "EMAIL" | "IP" | "CARD" | "SECRET" | "PHONE";

export interface RedactorOptions {
  /**
   * Extra patterns (regular-expression source). `NAME:pattern` (NAME in capitals) replaces matches with
   * `<NAME>`; a bare pattern with `<REDACTED>`.
   */
  extraPatterns?: readonly string[];
}

const EMAIL_LOCAL = /[A-Za-z0-9._%+'-]/;
const EMAIL_DOMAIN = /^[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/;
const JWT = /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}/g;
const AUTH_SCHEME = /\b(Bearer|Basic|Token|Digest)(\s+)([A-Za-z0-9._~+/=-]{8,})/gi;
/** Vendors' key formats: Stripe, OpenAI, GitHub, Slack, AWS, Google, GitLab, npm, SendGrid, Hugging Face. */
const KEY_PREFIXES = new RegExp(
  [
    "\\b[sr]k_(?:live|test)_[A-Za-z0-9]{10,}",
    "\\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}",
    "\\bgh[pousr]_[A-Za-z0-9]{30,}",
    "\\bgithub_pat_[A-Za-z0-9_]{30,}",
    "\\bxox[abposr]-[A-Za-z0-9-]{10,}",
    "\\b(?:AKIA|ASIA)[0-9A-Z]{16}\\b",
    "\\bAIza[0-9A-Za-z_-]{35}",
    "\\bglpat-[A-Za-z0-9_-]{20,}",
    "\\bnpm_[A-Za-z0-9]{36}",
    "\\bSG\\.[A-Za-z0-9_-]{16,}\\.[A-Za-z0-9_-]{16,}",
    "\\bhf_[A-Za-z0-9]{30,}",
    "\\bwhsec_[A-Za-z0-9]{24,}",
  ].join("|"),
  "g",
);
const KEY_PREFIX_HINT = /sk_|rk_|sk-|gh[pousr]_|github_pat_|xox|AKIA|ASIA|AIza|glpat-|npm_|SG\.|hf_|whsec_/;
/** `password=…`, `api_key: …`, `"token":"…"`: the value is a secret whatever it looks like. */
/** The key may carry a prefix (`secret_access_key`, `db.password`, `X-Api-Key`): it must END in a secret word. */
const SECRET_ASSIGNMENT =
  /\b([\w.-]*?(?:pass(?:word|wd)?|pwd|secret|token|api[_-]?key|apikey|access[_-]?key(?:_id)?|secret[_-]?key|private[_-]?key|auth(?:orization)?|credentials?)["']?\s*[=:]\s*["']?)([^\s"',;&]{4,})/gi;
const AUTH_SCHEME_WORD = /^(Bearer|Basic|Token|Digest)$/i;
const SECRET_HINT = /pass|pwd|secret|token|key|auth|credential/i;
const IPV4 =
  /(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\w]|\.\d)/g;
const IPV6_CANDIDATE = /(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?:%[\w.]+)?(?![\w:])/g;
const CARD_CANDIDATE = /(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w-])/g;
const PHONE_INTL = /(?<![\w+])\+\d{1,3}(?:[ .-]?\(?\d{1,4}\)?){2,5}(?![\w-])/g;
const PHONE_NANP = /(?<![\w.+-])(?:\(\d{3}\)\s?|\d{3}[.-])\d{3}[.-]\d{4}(?![\w.-])/g;
/** Long base64/base62-ish runs: candidates for the entropy test. */
const OPAQUE = /(?<![\w/+=-])[A-Za-z0-9+/_-]{24,}={0,2}(?![\w/+=-])/g;

function digitCount(s: string, limit: number): number {
  let n = 0;
  for (let i = 0; i < s.length && n < limit; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) n++;
  }
  return n;
}

export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** Issuer prefixes and lengths of the major card networks. */
function cardNetwork(d: string): boolean {
  const n = d.length;
  if (d[0] === "4") return n === 13 || n === 16 || n === 19;
  const two = Number(d.slice(0, 2));
  const four = Number(d.slice(0, 4));
  if (two >= 51 && two <= 55) return n === 16;
  if (four >= 2221 && four <= 2720) return n === 16;
  if (two === 34 || two === 37) return n === 15;
  if (d.startsWith("6011") || two === 65 || (four >= 6440 && four <= 6499)) return n >= 16 && n <= 19;
  if (two === 35) return n >= 16 && n <= 19;
  if (two === 36 || two === 38 || two === 30) return n === 14;
  return false;
}

function shannonBits(s: string): number {
  const counts = new Map<string, number>();
  for (const c of s) counts.set(c, (counts.get(c) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

/** A random-looking secret: mixed letters and digits, not a hex id, not a path or a word list. */
export function looksLikeSecret(s: string, minLength = 24): boolean {
  if (s.length < minLength) return false;
  if (/^[0-9a-fA-F-]+$/.test(s)) return false;
  // a name made of parts (`checkout-7d9f8b6c5d-x2kqz`) is an identifier unless one part is itself random
  const parts = s.split(/[-_.]/);
  if (parts.length > 1) {
    const longest = parts.reduce((a, b) => (b.length > a.length ? b : a));
    return looksLikeSecret(longest, 20);
  }
  if (s.includes("/")) {
    // a path, not base64: rooted, or with several separators
    if (s.startsWith("/") || s.includes("./") || s.split("/").length > 3) return false;
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(s)) return false;
  }
  let upper = 0;
  let lower = 0;
  let digit = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) upper++;
    else if (c >= 97 && c <= 122) lower++;
    else if (c >= 48 && c <= 57) digit++;
  }
  if (digit === 0 || (upper === 0 && lower === 0)) return false;
  if (upper === 0 || lower === 0) {
    // one-case strings (`abc_def_123`) are mostly identifiers; demand more randomness from them
    return digit >= 6 && shannonBits(s) >= 4.2;
  }
  return shannonBits(s) >= 4.0;
}

function compileExtra(pattern: string): { re: RegExp; placeholder: string } {
  const named = /^([A-Z][A-Z_]{1,15}):(.+)$/s.exec(pattern);
  const source = named ? named[2]! : pattern;
  try {
    return { re: new RegExp(source, "g"), placeholder: named ? `<${named[1]}>` : "<REDACTED>" };
  } catch (err) {
    throw new Error(
      `redaction pattern ${JSON.stringify(pattern)} is not a valid regular expression: ${(err as Error).message}`,
    );
  }
}

/** Builds a redactor; extra patterns are validated here, so a bad pattern fails at start-up. */
/**
 * Emails, found from each `@` outwards (local part ≤ 64 characters, as RFC 5321 allows), so a long line
 * costs linear time; a regex scanning from every start position would be quadratic.
 */
function redactEmails(s: string): string {
  let out = "";
  let copied = 0;
  let at = s.indexOf("@");
  while (at >= 0) {
    let start = at;
    while (start > 0 && at - start < 64 && EMAIL_LOCAL.test(s[start - 1]!)) start--;
    while (start < at && s[start] === "'") start++;
    const domain = start < at && start >= copied ? EMAIL_DOMAIN.exec(s.slice(at + 1, at + 256)) : null;
    if (domain) {
      out += `${s.slice(copied, start)}<EMAIL>`;
      copied = at + 1 + domain[0].length;
    }
    at = s.indexOf("@", Math.max(at + 1, copied));
  }
  return copied === 0 ? s : out + s.slice(copied);
}

/** What one pass over a line tells about which rules can match at all. */
interface Shape {
  /** Longest run of key-ish characters `[A-Za-z0-9+/=_.-]`. */
  keyRun: number;
  /** Most digits in one run of digit groups joined by single spaces or dashes (card numbers). */
  cardDigits: number;
  /** Most digits in one run of digit groups joined by single `.`, `-`, ` `, `(`, `)` (phones). */
  phoneDigits: number;
  digits: number;
  dotDigit: boolean;
}

/** Character classes for the one-pass scan: 1 = key-ish `[A-Za-z0-9+/=_.-]`, 2 = digit. */
const CLASS = new Uint8Array(128);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz+/=_.-") CLASS[c.charCodeAt(0)] = 1;
for (const c of "0123456789") CLASS[c.charCodeAt(0)] = 3;

function shapeOf(s: string): Shape {
  let keyRun = 0;
  let run = 0;
  let digits = 0;
  let card = 0;
  let cardRun = 0;
  let phone = 0;
  let phoneRun = 0;
  let dotDigit = false;
  let prev = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const k = c < 128 ? CLASS[c]! : 0;
    if (k & 1) {
      if (++run > keyRun) keyRun = run;
    } else run = 0;
    if (k & 2) {
      digits++;
      if (++cardRun > card) card = cardRun;
      if (++phoneRun > phone) phone = phoneRun;
      if (prev === 46 && i >= 2) dotDigit = true;
    } else if (cardRun > 0 || phoneRun > 0) {
      const prevDigit = prev >= 48 && prev <= 57;
      if (!(prevDigit && (c === 32 || c === 45))) cardRun = 0;
      if (
        !((prevDigit || prev === 41) && (c === 32 || c === 45 || c === 46 || c === 40 || c === 41)) &&
        c !== 40
      )
        phoneRun = 0;
    }
    prev = c;
  }
  return { keyRun, cardDigits: card, phoneDigits: phone, digits, dotDigit };
}

export type Redactor = (text: string) => string;

/** Builds a redactor; extra patterns are validated here, so a bad pattern fails at start-up. */
export function createRedactor(options: RedactorOptions = {}): Redactor {
  const extras = (options.extraPatterns ?? []).filter((p) => p.length > 0).map(compileExtra);
  return (text: string) => {
    let s = text;
    for (const { re, placeholder } of extras) s = s.replace(re, placeholder);
    if (s.includes("@")) s = redactEmails(s);
    const shape = shapeOf(s);
    if (shape.keyRun >= 15) {
      if (s.includes("eyJ")) s = s.replace(JWT, "<SECRET>");
      if (KEY_PREFIX_HINT.test(s)) s = s.replace(KEY_PREFIXES, "<SECRET>");
    }
    if (SECRET_HINT.test(s)) {
      s = s.replace(AUTH_SCHEME, (m, scheme: string, space: string, value: string) =>
        value.startsWith("<") ? m : `${scheme}${space}<SECRET>`,
      );
      s = s.replace(SECRET_ASSIGNMENT, (m, key: string, value: string) =>
        value.startsWith("<") || AUTH_SCHEME_WORD.test(value) ? m : `${key}<SECRET>`,
      );
    }
    if (shape.keyRun >= 24) s = s.replace(OPAQUE, (m) => (looksLikeSecret(m) ? "<SECRET>" : m));
    if (shape.cardDigits >= 13) {
      s = s.replace(CARD_CANDIDATE, (m) => {
        const d = m.replace(/[ -]/g, "");
        return cardNetwork(d) && luhnValid(d) ? "<CARD>" : m;
      });
    }
    if (shape.phoneDigits >= 10 || (shape.phoneDigits >= 8 && s.includes("+"))) {
      if (s.includes("+")) s = s.replace(PHONE_INTL, (m) => (digitCount(m, 16) >= 8 ? "<PHONE>" : m));
      s = s.replace(PHONE_NANP, "<PHONE>");
    }
    if (shape.dotDigit && shape.digits >= 4) s = s.replace(IPV4, "<IP>");
    if (s.includes("::") || /:[0-9A-Fa-f]{1,4}:[0-9A-Fa-f]{1,4}:/.test(s)) {
      s = s.replace(IPV6_CANDIDATE, (m) => {
        const bare = m.split("%")[0]!;
        return isIP(bare) === 6 && (bare.includes("::") || bare.split(":").length === 8) && /\d/.test(bare)
          ? "<IP>"
          : m;
      });
    }
    return s;
  };
}

/** Redacts with the built-in rules only. */
export const redact: Redactor = createRedactor();
