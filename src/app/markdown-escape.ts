/**
 * Escaping for each place a value can land in a Markdown comment. Service names, journey keys, log
 * templates and PromQL come from telemetry, so none of them may open a link, ping a person, end a table
 * cell, close a code fence or a mermaid label. Every function takes one line of text: newlines become
 * spaces, because a value that starts a new line could start a heading, a list or a fence.
 */

const oneLine = (s: string) => s.replace(/\s*[\r\n]+\s*/g, " ");

/** Longest run of backticks in `s`: a code span or fence needs a longer one. */
function longestBacktickRun(s: string): number {
  let longest = 0;
  for (const run of s.match(/`+/g) ?? []) longest = Math.max(longest, run.length);
  return longest;
}

/** `@name` or `@org/team`, as GitHub and GitLab read a mention. */
const MENTION = /(?<![\w`])@[A-Za-z0-9][\w./-]*/g;

const escapeText = (s: string) => s.replace(/[\\`*_[\]<>|~&]/g, "\\$&");

/**
 * Plain text (also safe in a table cell): CommonMark backslash escapes for the punctuation that forms
 * emphasis, links, HTML, tables and strikethrough; a leading `#`, `>`, list or rule marker is escaped
 * so the value cannot start a block; a mention goes in a code span so a bot comment never pings anyone.
 */
export function md(value: string): string {
  // Only markers that would start a block (followed by a space or the end) are escaped, so `-1` and `0.1` read as they are.
  return withMentions(value, escapeText, code)
    .replace(/^(?:#{1,6}|[-+=])(?=[\s=+-]|$)/, "\\$&")
    .replace(/^(\d{1,9})([.)])(?=\s|$)/, "$1\\$2");
}

/** Escapes the text between mentions with `other` and writes each mention with `mention`. */
function withMentions(value: string, other: (s: string) => string, mention: (m: string) => string): string {
  const text = oneLine(value);
  let out = "";
  let last = 0;
  for (const m of text.matchAll(MENTION)) {
    out += other(text.slice(last, m.index)) + mention(m[0]);
    last = m.index + m[0].length;
  }
  return out + other(text.slice(last));
}

/** An inline code span around `value`, with a fence longer than any backtick run inside it. */
export function code(value: string): string {
  const text = oneLine(value);
  const fence = "`".repeat(longestBacktickRun(text) + 1);
  // A span starting or ending with a backtick needs a space so the fence is not read as longer.
  const pad = /^`|`$/.test(text) ? " " : "";
  return `${fence}${pad}${text}${pad}${fence}`;
}

/**
 * A code span inside a GFM table row: a `|` ends the cell even inside a code span unless it is
 * escaped, and GFM removes that backslash before the span is read, so the reader still sees `|`.
 */
export function cellCode(value: string): string {
  return code(value).replace(/\|/g, "\\|");
}

const escapeHtml = (s: string) =>
  s
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");

/** Text inside HTML (`<summary>`), where Markdown is not read; a mention goes in `<code>`, as in `md`. */
export function html(value: string): string {
  return withMentions(value, escapeHtml, (m) => `<code>${m}</code>`);
}

/**
 * A fenced code block holding `text` verbatim (many lines allowed): the fence is longer than any run of
 * backticks in the text, so a query or log line can never close it early.
 */
export function fence(text: string, lang = ""): string {
  const fenceText = "`".repeat(Math.max(3, longestBacktickRun(text) + 1));
  return `${fenceText}${lang}\n${text.replace(/\s+$/, "")}\n${fenceText}`;
}

/**
 * Text inside a quoted mermaid label (`["..."]`, `|"..."|`). Mermaid decodes `#name;` and `#code;`
 * entities in labels; everything that could end the string, open an HTML tag, start a Markdown string
 * (a backtick), a comment (`%%`) or an entity of its own is written as one.
 */
export function mermaidLabel(value: string): string {
  return oneLine(value).replace(/[#"<>`%&]/g, (c) => `#${c.charCodeAt(0)};`);
}

/**
 * A double-quoted string in an `xychart-beta` (title, axis names, categories): its grammar has no
 * escapes, so a quote or a backtick (which opens a Markdown string) becomes an apostrophe, and `%%` is
 * split because mermaid reads `%%{...}%%` anywhere in a diagram as a config directive.
 */
export function mermaidText(value: string): string {
  return oneLine(value)
    .replace(/["`]/g, "'")
    .replace(/%(?=%)/g, "% ");
}
