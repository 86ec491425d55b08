/**
 * General masking of obvious variables in one log message, the same for every source. A message is split
 * on whitespace (runs collapse to one space in templates); each token keeps its constant text and has its
 * variable parts replaced by `<*>`. What cannot be told apart by its shape alone (user names, host names
 * without digits) is left to the template miner, which sees it vary across lines.
 */

export const WILDCARD = "<*>";

/** Typed placeholders (from redaction, `<IP>`, `<EMAIL>` …) are variables for the miner. */
const TYPED_PLACEHOLDER = /<[A-Z][A-Z_]{1,15}>/g;
const TYPED_EXACT = /^<[A-Z][A-Z_]{1,15}>$/;

const LEADING_AFFIX = new Set(["(", "[", "{", "'", '"', "`"]);
const TRAILING_AFFIX = new Set([")", "]", "}", "'", '"', "`", ",", ".", ";", ":", "!", "?"]);

/** Characters that separate a token into pieces masked one by one (`uid=0`, `host:port`, `f(12)`). */
export const DELIMITERS = /(\.{2,}|[=:,()[\]{}#@|;/-])/;
/** A path that starts right after a delimiter (`chdir(/p/a/b)`, `file=/etc/x`). */
const INNER_PATH = /(^|[=([{,:])\/[^\s()[\]{},;]*/g;

const IPV4 = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
const IPV6 = /^(?=.*:.*:)[0-9a-fA-F:]{2,39}(%\w+)?$/;
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const URL_LIKE = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/\S+$/;
/** Starts with a digit or sign+digit: numbers, sizes with units, versions, dates, durations. */
const NUMERIC_LEAD = /^[-+<>~]?\.?\d[\w.+\-%]*$/;
const HEX_WORD = /^(0[xX])?[0-9a-fA-F]{6,}$/;
const VERSION = /^[vV]\d+(\.\d+)+[\w.-]*$/;
/** An identifier carrying a long digit run (`blk_-1608…`, `job_2015…`, `storage1412`). */
const LONG_DIGITS_ID = /^[\w-]*\d{4,}[\w-]*$/;
/** A dotted name with numeric parts (`core.2275`, `worker.12`): the numbers are variables. */
const DOTTED_NUMBER = /(^|\.)\d+(?=\.|$)/g;
/** A host name with digits in it (`ec2-52-80-34-196.compute.amazonaws.com`). */
const HOST_WITH_DIGITS = /^(?=[^.]*\d|.*\.\w*\d)(?:[a-zA-Z0-9-]+\.)+[a-zA-Z]{2,}\.?$/;
/** `host:port` where host has a dot (or is localhost) and port is numeric. */
const HOST_PORT = /^\/?(?:(?:[a-zA-Z0-9-]+\.)+[a-zA-Z0-9-]+|[a-zA-Z][a-zA-Z-]*-\d+|<\*>):\d+$/;
/** An ISO-8601 date-time in one token (`2017-05-16T00:00:00.008Z`). */
const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}[T_]\d{2}:\d{2}(:\d{2}([.,]\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;
/** A Windows path (`C:\Windows\x.dll`, `\\server\share`). */
const WINDOWS_PATH = /^(?:[A-Za-z]:\\|\\\\)[^\s]*$/;

function hasDigit(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) return true;
  }
  return false;
}

/** True for a piece of a token that is a variable by its shape alone. */
export function isVariableAtom(s: string): boolean {
  const n = s.length;
  if (n === 0) return false;
  const first = s.charCodeAt(0);
  if (n > 1 && first === 47 /* / */) return true; // an absolute path
  if (s === WILDCARD) return true;
  let digitRun = 0;
  let maxDigitRun = 0;
  let dot = false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      digitRun++;
      if (digitRun > maxDigitRun) maxDigitRun = digitRun;
    } else {
      digitRun = 0;
      if (c === 46) dot = true;
    }
  }
  if (maxDigitRun === 0) return false;
  // cheap shape checks first; each regex only runs when its leading condition holds
  if (
    (first >= 48 && first <= 57) ||
    first === 45 ||
    first === 43 ||
    first === 60 ||
    first === 62 ||
    first === 126 ||
    first === 46
  )
    if (NUMERIC_LEAD.test(s)) return true;
  if (maxDigitRun >= 4 && LONG_DIGITS_ID.test(s)) return true;
  if (n >= 6 && HEX_WORD.test(s)) return true;
  if ((first === 118 || first === 86) && VERSION.test(s)) return true;
  return dot && HOST_WITH_DIGITS.test(s);
}

/** Whole-token shapes that must not be split at their delimiters (an IPv6 has colons, a URL slashes). */
function isWholeVariable(core: string, colons: number): boolean {
  if (core === WILDCARD) return true;
  const c0 = core.charCodeAt(0);
  if (core.length > 1 && (c0 === 47 || core.startsWith("~/") || core.startsWith("./"))) return true;
  if (colons > 0 && (WINDOWS_PATH.test(core) || ISO_DATETIME.test(core))) return true;
  if (colons > 0 && core.includes("://") && URL_LIKE.test(core)) return true;
  if (core.length === 36 && UUID.test(core)) return true;
  return colons >= 2 && IPV6.test(core) && hasDigit(core) && !/^\d+:\d+(:\d+)?$/.test(core);
}

/** The single-character delimiters of DELIMITERS (a run of dots is handled apart). */
const DELIMITER_CHAR = new Uint8Array(128);
for (const c of "=:,()[]{}#@|;/-") DELIMITER_CHAR[c.charCodeAt(0)] = 1;

function maskPiece(p: string): string {
  if (isVariableAtom(p)) return WILDCARD;
  if (p.includes(".") && hasDigit(p)) return p.replace(DOTTED_NUMBER, `$1${WILDCARD}`);
  return p;
}

/** Masks each piece between delimiters (the same split as DELIMITERS, without building arrays). */
function maskPieces(core: string): string {
  const src = core.includes("/") ? core.replace(INNER_PATH, `$1${WILDCARD}`) : core;
  let out = "";
  let start = 0;
  let slashVar = false;
  const n = src.length;
  for (let i = 0; i < n; i++) {
    const c = src.charCodeAt(i);
    const dots = c === 46 && i + 1 < n && src.charCodeAt(i + 1) === 46;
    if (!dots && (c >= 128 || DELIMITER_CHAR[c] === 0)) continue;
    out += maskPiece(src.slice(start, i));
    let j = i + 1;
    if (dots) while (j < n && src.charCodeAt(j) === 46) j++;
    if (c === 47) slashVar = true;
    out += src.slice(i, j);
    start = j;
    i = j - 1;
  }
  out += maskPiece(src.slice(start));
  // a path of variables is one variable (`125312k/129720k`)
  return slashVar ? out.replace(/<\*>(?:\/<\*>)+/g, WILDCARD) : out;
}

/** Masks one whitespace-free token. */
export function maskToken(token: string): string {
  let digits = 0;
  let special = false;
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (c >= 48 && c <= 57) digits++;
    else if (c === 47 /* / */ || c === 60 /* < */) special = true;
  }
  if (digits === 0 && !special) return token;
  if (digits === token.length) return WILDCARD;
  if (token.charCodeAt(0) === 60 && TYPED_EXACT.test(token)) return WILDCARD;
  let tok = token;
  if (tok.includes("<")) tok = tok.replace(TYPED_PLACEHOLDER, WILDCARD);
  if (!hasDigit(tok) && !tok.includes("/") && !tok.includes(WILDCARD)) return tok;
  let start = 0;
  let end = tok.length;
  while (start < end && LEADING_AFFIX.has(tok[start]!)) start++;
  while (end > start && TRAILING_AFFIX.has(tok[end - 1]!)) end--;
  // keep a closing bracket that belongs to the core (`f(12)` keeps its `)`)
  const core = tok.slice(start, end);
  const pre = tok.slice(0, start);
  const post = tok.slice(end);
  if (core.length === 0) return tok;
  let colons = 0;
  let dots = 0;
  for (let i = 0; i < core.length; i++) {
    const c = core.charCodeAt(i);
    if (c === 58) colons++;
    else if (c === 46) dots++;
  }
  if (colons === 1 && HOST_PORT.test(core)) return `${pre}${WILDCARD}:${WILDCARD}${post}`;
  if (isWholeVariable(core, colons) || (dots === 3 && IPV4.test(core))) return pre + WILDCARD + post;
  if (colons === 0 && isVariableAtom(core)) return pre + WILDCARD + post;
  return pre + maskPieces(core) + post;
}

/** Splits a message on whitespace. */
export function tokenize(message: string): string[] {
  const out: string[] = [];
  let start = -1;
  for (let i = 0; i < message.length; i++) {
    const c = message.charCodeAt(i);
    const space = c === 32 || c === 9 || c === 10 || c === 13 || c === 12 || c === 11;
    if (space) {
      if (start >= 0) {
        out.push(message.slice(start, i));
        start = -1;
      }
    } else if (start < 0) start = i;
  }
  if (start >= 0) out.push(message.slice(start));
  return out;
}

const CALENDAR_WORD =
  /^[([]?(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun|Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*[,.\])]?$/;

const TIME_OF_DAY = /^\d{1,2}:\d{2}(:\d{2}([.,]\d+)?)?$/;
const DAY_OR_YEAR = /^\d{1,4},?$/;
const YEAR = /^(19|20)\d{2}$/;

/**
 * Messages longer than this many tokens keep their first tokens and one `<*>` for the rest, which bounds
 * the work per line (a dump of thousands of ids is one kind of line, whatever its length).
 */
export const MAX_TOKENS = 256;

/** Tokenizes and masks a message: the input of the template miner. */
export function maskMessage(message: string): string[] {
  const raw = tokenize(message);
  if (raw.length > MAX_TOKENS) {
    raw.length = MAX_TOKENS;
    raw[MAX_TOKENS - 1] = WILDCARD;
  }
  const n = raw.length;
  const tokens = new Array<string>(n);
  for (let i = 0; i < n; i++) tokens[i] = maskToken(raw[i]!);
  // a weekday or month name next to a number is part of a date (`Fri Jun 17 07:07:00 2005`)
  let calendar = false;
  for (let i = 0; i < n; i++) {
    const t = tokens[i]!;
    const c = t.charCodeAt(0);
    if (t.length < 3 || t.length > 12 || !((c >= 65 && c <= 90) || c === 40 || c === 91)) continue;
    if (!CALENDAR_WORD.test(t)) continue;
    const near =
      (i + 1 < n && tokens[i + 1]!.includes(WILDCARD)) ||
      (i > 0 && tokens[i - 1]!.includes(WILDCARD)) ||
      (i + 2 < n && tokens[i + 2]!.includes(WILDCARD) && CALENDAR_WORD.test(tokens[i + 1]!));
    if (near) {
      tokens[i] = WILDCARD;
      calendar = true;
    }
  }
  return calendar ? joinDateTimes(raw, tokens) : tokens;
}

/**
 * A date written across tokens (`Fri Jun 17 07:07:00 2005`) is one variable: the weekday, month and day
 * before a time of day and a year right after it join the time's token (`<*>:<*>:<*>`), so dates with and
 * without a weekday give one template.
 */
function joinDateTimes(raw: readonly string[], tokens: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    if (!TIME_OF_DAY.test(raw[i]!)) {
      out.push(tokens[i]!);
      continue;
    }
    let drop = 0;
    while (
      drop < 3 &&
      out.length > 0 &&
      out[out.length - 1] === WILDCARD &&
      (CALENDAR_WORD.test(raw[i - drop - 1]!) || DAY_OR_YEAR.test(raw[i - drop - 1]!))
    ) {
      out.pop();
      drop++;
    }
    out.push(tokens[i]!);
    if (drop > 0 && i + 1 < raw.length && YEAR.test(raw[i + 1]!)) i++;
  }
  return out;
}
