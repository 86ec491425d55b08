import { readFileSync } from "node:fs";
import Handlebars from "handlebars";
import { stringify } from "yaml";
import type { Journey } from "../core/journey.js";
import type { SloRules } from "./model.js";
import { formatDuration } from "./prom-format.js";

/** Markdown runbook per SLO, from `templates/runbook.md.hbs`, with YAML front matter tools can index. */

const TEMPLATE = new URL("../../templates/runbook.md.hbs", import.meta.url);
let compiled: Handlebars.TemplateDelegate | undefined;

export interface RunbookContext {
  journey?: Journey;
  /** The service's most frequent error templates (already redacted). */
  fingerprints?: { id: string; template: string; count: number }[];
  dashboardUrl?: string;
}

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
  });
}
