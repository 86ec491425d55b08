/**
 * Splits a chat command into words the way a POSIX shell does, minus everything a shell would *do*: no
 * variables, globs, pipes or command substitution, so `$HOME`, `*` and `;` are ordinary characters that the
 * grammar then refuses. Written here rather than taken from a library because none is installed and the
 * subset is small: whitespace separates words; '…' keeps everything literally; "…" keeps everything but
 * `\"` and `\\`; outside quotes a backslash takes the next character literally (a backslash-newline joins
 * lines); adjacent pieces join into one word (`a'b c'd` is `ab cd`).
 *
 * Chat clients on macOS and iOS turn typed double quotes into “curly” ones, so those open and close a
 * double-quoted word too. Curly single quotes stay ordinary characters: ’ is more often an apostrophe.
 */

export type ShellWords = { ok: true; words: string[] } | { ok: false; message: string };

const WHITESPACE = new Set([" ", "\t", "\n", "\r"]);
const DOUBLE_QUOTES = new Set(['"', "\u201c", "\u201d"]);

export function shellWords(input: string): ShellWords {
  const words: string[] = [];
  let word = "";
  // A word can be empty yet present (`''`), so "inside a word" is tracked apart from its text.
  let inWord = false;
  let i = 0;
  while (i < input.length) {
    const c = input[i]!;
    if (WHITESPACE.has(c)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
      i++;
      continue;
    }
    inWord = true;
    if (c === "\\") {
      if (i + 1 >= input.length) return { ok: false, message: "the command ends with a lone backslash" };
      const next = input[i + 1]!;
      if (next !== "\n") word += next;
      i += 2;
    } else if (c === "'") {
      const end = input.indexOf("'", i + 1);
      if (end < 0) return { ok: false, message: "a single quote (') is not closed" };
      word += input.slice(i + 1, end);
      i = end + 1;
    } else if (DOUBLE_QUOTES.has(c)) {
      const read = readDoubleQuoted(input, i + 1);
      if (read === undefined) return { ok: false, message: 'a double quote (") is not closed' };
      word += read.text;
      i = read.next;
    } else {
      word += c;
      i++;
    }
  }
  if (inWord) words.push(word);
  return { ok: true, words };
}

function readDoubleQuoted(input: string, start: number): { text: string; next: number } | undefined {
  let text = "";
  for (let i = start; i < input.length; i++) {
    const c = input[i]!;
    if (DOUBLE_QUOTES.has(c)) return { text, next: i + 1 };
    const next = input[i + 1];
    if (c === "\\" && (next === '"' || next === "\\")) {
      text += next;
      i++;
    } else {
      text += c;
    }
  }
  return undefined;
}

const BARE_WORD = /^[A-Za-z0-9._/:@%+=,-]+$/;

/** Quotes a word so `shellWords` reads it back unchanged: bare when it is safe, else in single quotes. */
export function quoteWord(word: string): string {
  if (BARE_WORD.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}
