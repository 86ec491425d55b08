import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import Handlebars from "handlebars";
import { num, pct, share, span, utc } from "../../app/format.js";

/**
 * The console's pages as HTML, from the Handlebars templates in `templates/console/` (one per page, the
 * shared frame and pieces in `templates/console/partials/`), compiled once into an environment of their
 * own. Unlike the Markdown replies, these keep Handlebars' HTML escaping: every value from telemetry or
 * a person is escaped where it lands. The stylesheet is inlined and allowed by its hash alone, so the
 * Content-Security-Policy permits no other style and no script at all.
 */

const TEMPLATES = new URL("../../../templates/console/", import.meta.url);

export const PAGES = [
  "home",
  "service",
  "proposals",
  "proposal",
  "changes",
  "change",
  "refusal",
  "login",
] as const;
export type Page = (typeof PAGES)[number];

interface Compiled {
  pages: Record<Page, Handlebars.TemplateDelegate>;
  css: string;
  csp: string;
}

let compiled: Compiled | undefined;

/** Handlebars passes its options object in place of an optional argument a template left out. */
const digits = (x: unknown) => (typeof x === "number" ? x : undefined);

function compileAll(): Compiled {
  const hb = Handlebars.create();
  hb.registerHelper({
    num: (n: number, d: unknown) => num(n, digits(d)),
    pct: (n: number, d: unknown) => pct(n, digits(d)),
    share: (n: number, d: unknown) => share(n, digits(d)),
    span: (ms: number) => span(ms),
    utc: (ms: number) => utc(ms),
    eq: (a: unknown, b: unknown) => a === b,
    short: (commit: string) => String(commit).slice(0, 12),
    /** Only web addresses become links; anything else (a local repository's file URL) is shown as text. */
    webUrl: (url: string) => /^https?:\/\/[^\s<>"]+$/.test(String(url)),
    plural: (n: number, one: string, many: string) => `${num(n)} ${num(n) === "1" ? one : many}`,
  });
  const partials = new URL("partials/", TEMPLATES);
  for (const file of readdirSync(partials)) {
    if (file.endsWith(".html.hbs")) {
      hb.registerPartial(file.slice(0, -".html.hbs".length), readFileSync(new URL(file, partials), "utf8"));
    }
  }
  const pages = {} as Record<Page, Handlebars.TemplateDelegate>;
  for (const page of PAGES) {
    pages[page] = hb.compile(readFileSync(new URL(`${page}.html.hbs`, TEMPLATES), "utf8"), { strict: false });
  }
  const css = readFileSync(new URL("console.css", TEMPLATES), "utf8");
  const cssHash = createHash("sha256").update(css).digest("base64");
  const csp = [
    "default-src 'none'",
    `style-src 'sha256-${cssHash}'`,
    // The page names an empty icon, so the browser does not ask for /favicon.ico.
    "img-src data:",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join("; ");
  return { pages, css, csp };
}

/** What a page's template reads, plus `title` and `nav` (the menu entry to mark current) for the frame. */
export type PageData = { title: string; nav?: string } & Record<string, unknown>;

export function renderPage(page: Page, data: PageData): string {
  compiled ??= compileAll();
  return compiled.pages[page]({ ...data, css: compiled.css });
}

/** The Content-Security-Policy every console page is sent with. */
export function contentSecurityPolicy(): string {
  compiled ??= compileAll();
  return compiled.csp;
}
