import { describe, expect, it } from "vitest";
import { quoteWord, shellWords } from "../../src/app/shell-words.js";

const words = (input: string) => {
  const r = shellWords(input);
  if (!r.ok) throw new Error(r.message);
  return r.words;
};

describe("shellWords", () => {
  it("splits on any whitespace and keeps empty quoted words", () => {
    expect(words(" a\tb\n\r c  ")).toEqual(["a", "b", "c"]);
    expect(words("a '' \"\" b")).toEqual(["a", "", "", "b"]);
    expect(words("")).toEqual([]);
  });

  it('reads single quotes literally, double quotes with \\" and \\\\, backslashes outside quotes', () => {
    expect(words(`'a \\n "b"'`)).toEqual([`a \\n "b"`]);
    expect(words(`"a \\"b\\" \\\\ \\n 'c'"`)).toEqual([`a "b" \\ \\n 'c'`]);
    expect(words(`a\\ b \\'c\\'`)).toEqual(["a b", "'c'"]);
    expect(words("a'b c'd\"e f\"")).toEqual(["ab cde f"]);
  });

  it("does none of a shell's expansions", () => {
    expect(words("$HOME * ; | && $(id) `id` ~")).toEqual([
      "$HOME",
      "*",
      ";",
      "|",
      "&&",
      "$(id)",
      "`id`",
      "~",
    ]);
  });

  it("refuses what it cannot close", () => {
    expect(shellWords("'a").ok).toBe(false);
    expect(shellWords('"a').ok).toBe(false);
    expect(shellWords('"a\\"').ok).toBe(false);
    expect(shellWords("a\\").ok).toBe(false);
  });
});

describe("quoteWord", () => {
  it("leaves safe words bare and quotes the rest so they read back unchanged", () => {
    expect(quoteWord("prop-3f2a9c0d1b2e")).toBe("prop-3f2a9c0d1b2e");
    const samples = [
      "",
      "a b",
      "it's",
      "'",
      "''",
      '"x"',
      "a\\b",
      "$HOME",
      "{id}",
      "x\ny",
      "“curly”",
      "tab\there",
    ];
    for (const s of samples) expect(words(quoteWord(s)), s).toEqual([s]);
  });
});
