import type { EvidencePointer } from "../core/evidence.js";
import type { Journey } from "../core/journey.js";
import type { Proposal } from "../core/proposal.js";
import type { RunbookContext } from "./runbook.js";
import { sloName } from "./spec/from-proposals.js";

/**
 * What analysis knew when it proposed an SLO, handed to that SLO's runbook: the journey it measures, the
 * error fingerprints and budget consumers its evidence cites, and example traces. Keyed by SLO id
 * (`<service>-<name>`, the names `specFromProposals` gives), which is how `buildDocArtifacts` looks it up.
 */

/** `checkout: 339 error line(s) during the top budget consumer: <template>`, as analysis/evidence.ts writes it. */
const CAPSULE_NOTE = /^(?<service>[^:]+): (?<count>[\d,]+) error line\(s\) [^:]*: (?<template>.*)$/s;

function fingerprint(e: EvidencePointer): NonNullable<RunbookContext["fingerprints"]>[number] {
  const m = CAPSULE_NOTE.exec(e.note ?? "")?.groups;
  if (!m) return { id: e.ref, template: e.note ?? e.ref, count: 0 };
  return {
    id: e.ref,
    template: m.template!,
    count: Number(m.count!.replaceAll(",", "")),
    service: m.service!,
  };
}

export function runbookContext(proposal: Proposal, journey: Journey | undefined): RunbookContext {
  const cited = (kind: EvidencePointer["kind"]) => proposal.evidence.filter((e) => e.kind === kind);
  return {
    ...(journey ? { journey } : {}),
    fingerprints: cited("capsule").map(fingerprint),
    budgetConsumers: cited("backtest")
      .filter((e) => e.range)
      .map((e) => ({ start: e.range!.start, end: e.range!.end, note: e.note ?? e.ref })),
    exampleTraces: cited("trace").map((e) => ({ id: e.ref, ...(e.note ? { note: e.note } : {}) })),
  };
}

/** One context per proposal's SLO; `dashboardUrl` may hold `{service}`. */
export function runbookContexts(
  proposals: Proposal[],
  journeys: Journey[],
  opts: { dashboardUrl?: string } = {},
): Record<string, RunbookContext> {
  const byKey = new Map(journeys.map((j) => [j.key, j]));
  const out: Record<string, RunbookContext> = {};
  for (const p of proposals) {
    out[`${p.service}-${sloName(p)}`] = {
      ...runbookContext(p, byKey.get(p.journey)),
      ...(opts.dashboardUrl ? { dashboardUrl: opts.dashboardUrl.replaceAll("{service}", p.service) } : {}),
    };
  }
  return out;
}
