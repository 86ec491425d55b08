import { describe, expect, it } from "vitest";
import { num, pct, share, span, utc } from "../../src/app/format.js";
import { cellCode, code, fence, html, md, mermaidLabel, mermaidText } from "../../src/app/markdown-escape.js";

describe("md", () => {
  it("backslash-escapes what would format, link, tag or split a table", () => {
    expect(md("a*b*_c_ [x](y) <b> | ~s~ `c` \\ &amp;")).toBe(
      "a\\*b\\*\\_c\\_ \\[x\\](y) \\<b\\> \\| \\~s\\~ \\`c\\` \\\\ \\&amp;",
    );
  });

  it("keeps a value from starting a block", () => {
    expect(md("# title")).toBe("\\# title");
    expect(md("- item")).toBe("\\- item");
    expect(md("> quote")).toBe("\\> quote");
    expect(md("1. first")).toBe("1\\. first");
    expect(md("one\n# two")).toBe("one # two");
    expect(md("---")).toBe("\\---");
    expect(md("-1 errors, 0.1 score, #1")).toBe("-1 errors, 0.1 score, #1");
  });

  it("puts mentions in code spans so nobody is pinged", () => {
    expect(md("deploy by @alice and @org/team, mail a@b.c")).toBe(
      "deploy by `@alice` and `@org/team`, mail a@b.c",
    );
  });
});

describe("code spans and fences", () => {
  it("uses a fence longer than any backtick run, padded when the text touches it", () => {
    expect(code("a")).toBe("`a`");
    expect(code("a`b")).toBe("``a`b``");
    expect(code("`x`")).toBe("`` `x` ``");
    expect(code("a\nb")).toBe("`a b`");
  });

  it("escapes pipes only for table cells", () => {
    expect(cellCode('x{a="b|c"}')).toBe('`x{a="b\\|c"}`');
  });

  it("fences a block so its content cannot close it", () => {
    expect(fence("a\n```\nb", "promql")).toBe("````promql\na\n```\nb\n````");
    expect(fence("plain")).toBe("```\nplain\n```");
  });
});

describe("html", () => {
  it("escapes for text inside a tag and wraps mentions in <code>", () => {
    expect(html(`<a href="x">'&'</a> @bob`)).toBe(
      "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt; <code>@bob</code>",
    );
  });
});

describe("mermaid", () => {
  it("writes label characters that could end a string, open HTML or a directive as entities", () => {
    expect(mermaidLabel('a"b] `c` <br> %%{x}%% #1;')).toBe(
      "a#34;b] #96;c#96; #60;br#62; #37;#37;{x}#37;#37; #35;1;",
    );
  });

  it("replaces quotes and backticks in xychart strings and splits %%", () => {
    expect(mermaidText('say "hi" `x` %%{init}%% 50%')).toBe("say 'hi' 'x' % %{init}% % 50%");
  });
});

describe("formats", () => {
  it("prints numbers in en-US, percentages trimmed, times in UTC", () => {
    expect(num(10148.36)).toBe("10,148");
    expect(num(-0.0001, 2)).toBe("0");
    expect(pct(99.9)).toBe("99.9%");
    expect(share(0.010000000000000009, 3)).toBe("1%");
    expect(utc(Date.UTC(2026, 10, 15, 9, 30))).toBe("2026-11-15 09:30Z");
    expect([span(45 * 60_000), span(3 * 3_600_000), span(36 * 3_600_000), span(3 * 86_400_000)]).toEqual([
      "45 min",
      "3 h",
      "36 h",
      "3 d",
    ]);
  });
});
