import { readdirSync, readFileSync } from "node:fs";
import Handlebars from "handlebars";
import { num, pct, share, span } from "./format.js";
import { cellCode, code, fence, html, md, mermaidLabel, mermaidText } from "./markdown-escape.js";
import type { ChangeRequestView, ViewModel } from "./view-model.js";

/**
 * Renders a view-model as Markdown for a GitHub/GitLab comment or the terminal, from the Handlebars
 * templates in `templates/` (one per kind, shared pieces in `templates/partials/`). Templates are read
 * and compiled once, into a Handlebars environment of their own.
 *
 * Handlebars' default escaping is HTML's, which is wrong for Markdown (an `&#x60;` inside a code span
 * shows as such), so templates compile with `noEscape` and every value from telemetry goes through the
 * helper for the place it lands: `md` in text, `code`/`tcode` in code spans (the latter in tables),
 * `html` inside `<summary>`, `fence` for code blocks, `mlabel`/`mtext` in mermaid.
 */

/** GitHub's limit for an issue or pull-request comment body, in characters. */
export const COMMENT_LIMIT = 65_536;

const TEMPLATES = new URL("../../templates/", import.meta.url);

type Kind = ViewModel["kind"] | ChangeRequestView["kind"];
const KINDS: readonly Kind[] = [
  "analysis",
  "change",
  "change-request",
  "refusal",
  "simulation",
  "proposals",
  "status",
  "help",
];

let compiled: Record<Kind, Handlebars.TemplateDelegate> | undefined;

/** Handlebars passes its options object in place of an optional argument a template left out. */
const digits = (x: unknown) => (typeof x === "number" ? x : undefined);

function compileAll(): Record<Kind, Handlebars.TemplateDelegate> {
  const hb = Handlebars.create();
  hb.registerHelper({
    md: (s: string) => md(String(s)),
    code: (s: string) => code(String(s)),
    tcode: (s: string) => cellCode(String(s)),
    html: (s: string) => html(String(s)),
    fence: (text: string, lang: unknown) => fence(String(text), typeof lang === "string" ? lang : ""),
    mlabel: (s: string) => mermaidLabel(String(s)),
    mtext: (s: string) => mermaidText(String(s)),
    quoted: (xs: string[]) => xs.map((x) => `"${mermaidText(x)}"`).join(", "),
    list: (xs: number[]) => xs.join(", "),
    num: (n: number, d: unknown) => num(n, digits(d)),
    pct: (n: number, d: unknown) => pct(n, digits(d)),
    share: (n: number, d: unknown) => share(n, digits(d)),
    span: (ms: number) => span(ms),
    plural: (n: number, one: string, many: string) => `${num(n)} ${num(n) === "1" ? one : many}`,
    /** A link when the URL is a web address; a local repository's location is shown as code. */
    link: (text: string, url: string) =>
      /^https?:\/\/[^\s<>]+$/.test(url) ? `[${md(text)}](<${url}>)` : code(url),
  });
  const partials = new URL("partials/", TEMPLATES);
  for (const file of readdirSync(partials)) {
    if (file.endsWith(".md.hbs")) {
      hb.registerPartial(file.slice(0, -".md.hbs".length), readFileSync(new URL(file, partials), "utf8"));
    }
  }
  const out = {} as Record<Kind, Handlebars.TemplateDelegate>;
  for (const kind of KINDS) {
    out[kind] = hb.compile(readFileSync(new URL(`${kind}.md.hbs`, TEMPLATES), "utf8"), { noEscape: true });
  }
  return out;
}

/**
 * The Markdown for one view-model, under a comment's size limit: when the full reply is too long, an
 * analysis drops proposal details from the last proposal up, then every collapsed block goes. The
 * view-models bound every list and text, so the last attempt always fits (a test holds them to it).
 */
export function renderMarkdown(view: ViewModel | ChangeRequestView): string {
  compiled ??= compileAll();
  const template = compiled[view.kind];
  let out = "";
  for (const data of attempts(view)) {
    out = tidy(template(data));
    if (out.length <= COMMENT_LIMIT) break;
  }
  return out;
}

/** What a template is given, fullest first. */
function* attempts(view: ViewModel | ChangeRequestView): Generator<object> {
  if (view.kind === "analysis") {
    const all = view.proposals.items;
    for (let shown = all.length; shown >= 0; shown--) {
      yield { ...view, detailed: all.slice(0, shown), detailsLeftOut: all.length - shown };
    }
    yield { ...view, detailed: [], detailsLeftOut: all.length, compact: true };
  } else {
    yield view;
    yield { ...view, compact: true };
  }
}

/**
 * Blank-line runs left by skipped template sections collapse to one, except inside fenced blocks (a
 * query is shown as it is); the reply ends with one newline.
 */
function tidy(markdown: string): string {
  const collapsed = markdown.replace(
    /(^(`{3,})[^\n]*\n[\s\S]*?^\2$)|\n{3,}/gm,
    (_, fenced) => fenced ?? "\n\n",
  );
  return `${collapsed.trim()}\n`;
}
