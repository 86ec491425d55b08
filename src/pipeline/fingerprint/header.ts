/**
 * Strips the leading header of a whole log line (timestamps, level, pid, host, component) by general
 * rules, with no per-source format strings. What it cannot tell for sure is left in place: leftovers are
 * masked like any other variable, so they cost a template's tidiness, not its grouping.
 */

const MONTH_OR_DAY =
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun|Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*,?$/;
/** Digits and the punctuation dates, times, epochs, pids and sequence numbers are written with. */
const STAMP = /^[-+]?\d[\d\-.:/,TZ+_]*$/;
const TIME = /\d{1,2}:\d{2}(:\d{2})?/;
const EPOCH = /^1\d{8,12}(\.\d+)?$/;
const LEVEL =
  /^[[<(]?(TRACE|DEBUG|DBG|INFO|INFORMATION|NOTICE|WARN|WARNING|ERROR|ERR|SEVERE|CRIT|CRITICAL|ALERT|EMERG|FATAL|FAILURE|PANIC|Trace|Debug|Info|Notice|Warn|Warning|Error|Fatal|Critical|trace|debug|info|notice|warn|warning|error|fatal|crit|[VDIWEF])[\]>):,]?$/;
/** A header token before the level: has a digit, is ALL-CAPS, or is a bracket group. */
const HEADERISH = /^(?:.*\d.*|[A-Z][A-Z0-9_]*|\[.*\]|-)$/;
/** `sshd[123]:`, `dfs.DataNode$PacketResponder:`, `kernel:`, `org.apache.x.Y:` */
const COMPONENT = /^[\w.$/@()[\]<>#-]+:$/;
/** `org.apache.hadoop.X`, `nova.compute.manager`: a dotted name with no digits. */
const DOTTED_NAME = /^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)+$/;

interface Tok {
  text: string;
  start: number;
}

function tokens(line: string): Tok[] {
  const out: Tok[] = [];
  const re = /\S+/g;
  for (let m = re.exec(line); m; m = re.exec(line)) out.push({ text: m[0], start: m.index });
  return out;
}

/** Index after a bracket group starting at i (`[Sun Dec 04 04:47:44 2005]` spans tokens), or i. */
function skipBracket(t: Tok[], i: number): number {
  const open = t[i]?.text[0];
  if (open !== "[" && open !== "<") return i;
  const close = open === "[" ? "]" : ">";
  let depth = 0;
  for (let j = i; j < t.length && j < i + 8; j++) {
    for (const c of t[j]!.text) {
      if (c === open) depth++;
      else if (c === close) depth--;
    }
    if (depth <= 0) return j + 1;
  }
  return i;
}

function isLevel(s: string, strict: boolean): boolean {
  const m = LEVEL.exec(s);
  if (!m) return false;
  // single-letter levels (`I`, `W`) only count between numbers, as in `1702 2395 D Tag: …`
  return !strict || m[1]!.length > 1;
}

export function stripHeader(line: string): string {
  const pipe = stripPipeHeader(line);
  if (pipe !== undefined) return pipe;
  const t = tokens(line);
  let i = 0;
  let sawTime = false;
  let sawBracketStamp = false;
  // 1. timestamps, sequence numbers, pids
  while (i < t.length) {
    const s = t[i]!.text;
    if (
      STAMP.test(s) ||
      s === "-" ||
      (MONTH_OR_DAY.test(s) && i + 1 < t.length && /\d/.test(t[i + 1]!.text))
    ) {
      if (TIME.test(s)) sawTime = true;
      i++;
      continue;
    }
    const b = skipBracket(t, i);
    if (
      b > i &&
      /\d/.test(
        t
          .slice(i, b)
          .map((x) => x.text)
          .join(" "),
      )
    ) {
      sawBracketStamp = true;
      sawTime ||= TIME.test(
        t
          .slice(i, b)
          .map((x) => x.text)
          .join(" "),
      );
      i = b;
      continue;
    }
    // a host between two parts of a header (`- 1131566461 2005.11.09 dn228 Nov 9 12:01:01 …`)
    const next = t[i + 1]?.text ?? "";
    if (i > 0 && /\d/.test(s) && MONTH_OR_DAY.test(next) && /\d/.test(t[i + 2]?.text ?? "")) {
      i++;
      continue;
    }
    break;
  }
  const headerEnd = i;
  // 2. a level word shortly after, with only header-looking tokens in between
  for (let j = i; j < t.length && j < i + 10; j++) {
    const s = t[j]!.text;
    if (isLevel(s, !(j > 0 && /^\d+$/.test(t[j - 1]!.text)))) {
      i = afterLevel(t, j + 1);
      return rest(line, t, i);
    }
    if (!HEADERISH.test(s)) break;
  }
  // 3. an epoch in the first tokens ends a header of ids and names (`134681 node-246 unix.hw state 1077804742 1`)
  if (headerEnd > 0 || i === 0) {
    for (let j = i; j < t.length && j < i + 6; j++) {
      if (EPOCH.test(t[j]!.text) && j > i) {
        let k = j + 1;
        while (k < t.length && k < j + 3 && STAMP.test(t[k]!.text)) k++;
        return rest(line, t, k);
      }
    }
  }
  if (headerEnd === 0) return line;
  // 4. syslog: `host component[pid]: message`; a program named before a lone `-` separator
  const a = t[i]?.text ?? "";
  const b = t[i + 1]?.text ?? "";
  const c = t[i + 2]?.text ?? "";
  if (COMPONENT.test(a)) i += 1;
  else if (sawTime && !sawBracketStamp && !a.endsWith(":") && COMPONENT.test(b)) i += 2;
  // `host Program[pid] (0x7fd…): message`
  else if (sawTime && !sawBracketStamp && /^[\w.$@-]+\[\d+\]$/.test(b) && /^\(.*\):$/.test(c)) i += 3;
  else {
    for (let j = i + 1; j < t.length && j <= i + 3; j++) {
      if (t[j]!.text === "-") {
        i = j + 1;
        break;
      }
    }
  }
  return rest(line, t, i);
}

/** After the level: a thread or source in brackets, `-` separators and one component name. */
function afterLevel(t: Tok[], start: number): number {
  let i = start;
  for (let guard = 0; guard < 4 && i < t.length; guard++) {
    const s = t[i]!.text;
    const b = skipBracket(t, i);
    // a thread or logger in brackets is one token (`[main]`); `[client 10.0.0.1] …` is the message
    if (b === i + 1 && i === start) i = b;
    else if (s === "-" || s === ":" || s === "|") i++;
    else if (COMPONENT.test(s) || DOTTED_NAME.test(s)) {
      i++;
      // a request context after a logger name (`nova.api [req-1 user project - - -] message`)
      if (!s.endsWith(":")) i = skipBracket(t, i);
      while (i < t.length && (t[i]!.text === "-" || t[i]!.text === ":")) i++;
      break;
    } else break;
  }
  return i;
}

function rest(line: string, t: Tok[], i: number): string {
  if (i >= t.length) return line;
  return line.slice(t[i]!.start);
}

/** `20171223-22:15:29:606|Step_LSC|30002312|onStandStepChanged 3579`: header fields split by `|`. */
function stripPipeHeader(line: string): string | undefined {
  const first = line.indexOf("|");
  if (first < 0 || first > 40) return undefined;
  const fields = line.split("|");
  if (!STAMP.test(fields[0]!.trim())) return undefined;
  let i = 1;
  while (i < fields.length - 1 && i < 4 && /^[\w.$:-]+$/.test(fields[i]!.trim())) i++;
  return fields.slice(i).join("|").trim();
}
