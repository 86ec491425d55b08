import { readFileSync } from "node:fs";
import Handlebars from "handlebars";
import { stringify } from "yaml";
import { formatDuration } from "../core/duration.js";
import type { Journey } from "../core/journey.js";
import type { SloRules } from "./model.js";

/** Markdown runbook per SLO, from `templates/runbook.md.hbs`, with YAML front matter tools can index. */

const TEMPLATE = new URL("../../templates/runbook.md.hbs", import.meta.url);
let compiled: Handlebars.TemplateDelegate | undefined;

export interface RunbookContext {
  journey?: Journey;
  /** The most frequent error templates on the journey (already redacted), most errors first. */
  fingerprints?: { id: string; template: string; count: number; service?: string }[];
  /** The periods that used the most error budget in the analysed history, worst first. */
  budgetConsumers?: { start: number; end: number; note: string }[];
  /** Trace ids to open in the tracing UI, failing ones first. */
  exampleTraces?: { id: string; note?: string }[];
  dashboardUrl?: string;
}

/** The services of a journey level by level from its entry: who calls whom, for "where does it go". */
export function journeyPath(j: Journey): string[][] {
  const levels: string[][] = [[j.service]];
  const seen = new Set([j.service]);
  for (let level = levels[0]!; level.length > 0; ) {
    const next = [
      ...new Set(j.downstream.filter((e) => level.includes(e.from) && !seen.has(e.to)).map((e) => e.to)),
    ].sort();
    for (const s of next) seen.add(s);
    if (next.length > 0) levels.push(next);
    level = next;
  }
  return levels;
}

const iso = (t: number) => new Date(t).toISOString().replace(/:00\.000Z$/, "Z");

export const RUNBOOK_FRONT_MATTER_KEYS = ["slo", "service", "objective", "period", "generated_by"] as const;

const round = (n: number, d = 2) => Number(n.toFixed(d));

export function buildRunbook(rules: SloRules, ctx: RunbookContext = {}): string {
  compiled ??= Handlebars.compile(readFileSync(TEMPLATE, "utf8"), { noEscape: true, strict: false });
  const s = rules.slo;
  const periodMs = rules.windows.periodMs;
  const budget = 1 - s.objective / 100;
  const w = rules.windows;
  const windows = [w.pageQuick, w.pageSlow, w.ticketQuick, w.ticketSlow].map((x) => ({
    severity: x.severity,
    long: formatDuration(x.longWindowMs),
    short: formatDuration(x.shortWindowMs),
    factor: round(x.factor, 3),
    spent: round(((x.factor * x.longWindowMs) / periodMs) * 100, 1),
  }));
  const frontMatter = stringify({
    slo: s.id,
    service: s.service,
    objective: s.objective,
    period: formatDuration(periodMs),
    generated_by: "slo-scout",
    ...(ctx.journey ? { journey: ctx.journey.key } : {}),
  }).trimEnd();
  const events = "events" in s.sli ? s.sli.events : undefined;
  return compiled({
    frontMatter,
    id: s.id,
    name: s.name,
    service: s.service,
    description: s.description,
    objective: s.objective,
    what: ctx.journey ? `requests of ${ctx.journey.key}` : "events",
    period: formatDuration(periodMs),
    budgetPercent: round(budget * 100, 4),
    budgetMinutes: Math.round((budget * periodMs) / 60_000),
    errorQuery: events?.errorQuery,
    totalQuery: events?.totalQuery,
    errorRatioQuery: "raw" in s.sli ? s.sli.raw.errorRatioQuery : undefined,
    windows,
    pageHorizon: formatDuration(Math.round(periodMs / w.pageQuick.factor)),
    dashboardUrl: ctx.dashboardUrl,
    downstream: [...(ctx.journey?.downstream ?? [])]
      .sort((a, b) => b.errorShare - a.errorShare || b.calls - a.calls)
      .slice(0, 8)
      .map((e) => ({ ...e, errorPercent: round(e.errorShare * 100, 2), p95: round(e.p95Ms, 1) })),
    fingerprints: (ctx.fingerprints ?? []).slice(0, 5),
    journeyKey: ctx.journey?.key,
    path: ctx.journey
      ? journeyPath(ctx.journey)
          .map((l) => l.join(", "))
          .join(" → ")
      : undefined,
    consumers: (ctx.budgetConsumers ?? []).map((c) => ({ ...c, from: iso(c.start), to: iso(c.end) })),
    traces: ctx.exampleTraces ?? [],
  });
}
