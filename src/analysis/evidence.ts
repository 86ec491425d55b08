import type { ExampleTrace } from "../core/aggregates.js";
import type { EvidencePointer, TimeRange } from "../core/evidence.js";
import type { Journey } from "../core/journey.js";
import type { Sql } from "../store/ports.js";
import { capsuleId } from "../store/repos/capsules.js";
import type { BudgetConsumer } from "./confidence.js";
import { formatTime } from "./history.js";
import { type SliCandidate, selector } from "./sli.js";

/**
 * Evidence on a proposal, each pointer resolvable through the store: the series the SLI reads over the
 * analysed range, the periods that consumed the budget (the series of bad events over each period), the
 * example traces of the journey (failing ones from the worst period first) and the capsules of the top
 * error fingerprints of the services on the journey.
 */

export interface ErrorCapsule {
  /** Capsule id (`fingerprint@windowStart`) of the fingerprint's worst window. */
  id: string;
  service: string;
  fingerprint: string;
  template: string;
  errors: number;
  windowStart: number;
}

/** Error/fatal log fingerprints of `services` in [since, until), most errors first, each at its worst window. */
export async function topErrorCapsules(
  sql: Sql,
  q: { services: string[]; since: number; until: number; limit?: number },
): Promise<ErrorCapsule[]> {
  if (q.services.length === 0) return [];
  const { rows } = await sql.query<{
    service: string;
    fingerprint: string;
    template: string;
    window_start: number | string;
    errors: number | string;
  }>(
    `SELECT service, fingerprint, template, window_start,
            coalesce((severity_counts ->> 'error')::bigint, 0) + coalesce((severity_counts ->> 'fatal')::bigint, 0) AS errors
       FROM capsules
      WHERE service IN (SELECT jsonb_array_elements_text($1::jsonb))
        AND window_start >= $2 AND window_start < $3
        AND (severity_counts ? 'error' OR severity_counts ? 'fatal')`,
    [JSON.stringify(q.services), q.since, q.until],
  );
  const byFp = new Map<string, ErrorCapsule & { worst: number }>();
  for (const r of rows) {
    const errors = Number(r.errors);
    if (!(errors > 0)) continue;
    const windowStart = Number(r.window_start);
    const e = byFp.get(r.fingerprint);
    if (!e) {
      byFp.set(r.fingerprint, {
        id: capsuleId({ fingerprint: r.fingerprint, windowStart }),
        service: r.service,
        fingerprint: r.fingerprint,
        template: r.template,
        errors,
        windowStart,
        worst: errors,
      });
      continue;
    }
    e.errors += errors;
    if (errors > e.worst || (errors === e.worst && windowStart < e.windowStart)) {
      e.worst = errors;
      e.windowStart = windowStart;
      e.id = capsuleId({ fingerprint: r.fingerprint, windowStart });
    }
  }
  return [...byFp.values()]
    .sort((a, b) => b.errors - a.errors || a.fingerprint.localeCompare(b.fingerprint))
    .slice(0, q.limit ?? 5)
    .map(({ worst: _, ...c }) => c);
}

/** Services a journey touches (entry and every callee), the ones whose logs explain its failures. */
export function journeyServices(j: Journey): string[] {
  return [...new Set([j.service, ...j.downstream.flatMap((e) => [e.from, e.to])])];
}

const pct = (x: number) => `${Math.round(x * 1000) / 10}%`;

function hours(r: TimeRange): string {
  const h = (r.end - r.start) / 3_600_000;
  return h === 1 ? "1 hour" : `${Math.round(h * 10) / 10} hours`;
}

export interface EvidenceInput {
  candidate: SliCandidate;
  journey: Journey;
  range: TimeRange;
  consumers: readonly BudgetConsumer[];
  /** Example traces of the journey (any order); failing ones inside the worst period are cited first. */
  traces: readonly ExampleTrace[];
  /** Error capsules overall, and inside the worst period. */
  capsules: readonly ErrorCapsule[];
  consumerCapsules?: readonly ErrorCapsule[];
  /** How many of each kind to cite. */
  limits?: { consumers?: number; traces?: number; capsules?: number };
}

export function buildEvidence(input: EvidenceInput): EvidencePointer[] {
  const { candidate: c, range } = input;
  const lim = { consumers: 3, traces: 5, capsules: 5, ...input.limits };
  const out: EvidencePointer[] = [
    { kind: "metric", ref: selector(c.total), range, note: "all events the SLI counts" },
    { kind: "metric", ref: selector(c.good), range, note: "good events" },
  ];
  const badRef = c.bad ? selector(c.bad) : selector(c.total);
  input.consumers.slice(0, lim.consumers).forEach((b, i) => {
    const r = { start: b.start, end: b.end };
    out.push({
      kind: "backtest",
      ref: badRef,
      range: r,
      note:
        `top budget consumer #${i + 1}: ${formatTime(b.start)} for ${hours(r)}, ${Math.round(b.bad).toLocaleString("en-US")} bad ` +
        `of ${Math.round(b.total).toLocaleString("en-US")} events (${pct(b.shareOfBad)} of all bad events` +
        `${b.budgetUsed !== undefined ? `, ${pct(b.budgetUsed)} of a window's budget` : ""})`,
    });
  });
  const worst = input.consumers[0];
  const inWorst = (t: ExampleTrace) =>
    worst !== undefined && t.windowStart >= worst.start - 3_600_000 && t.windowStart < worst.end;
  const failing = (t: ExampleTrace) =>
    t.spans.some((s) => s.status === "error" && s.service === input.journey.service);
  const ranked = [...input.traces].sort(
    (a, b) =>
      Number(inWorst(b) && failing(b)) - Number(inWorst(a) && failing(a)) ||
      Number(failing(b)) - Number(failing(a)) ||
      b.windowStart - a.windowStart,
  );
  const cited = new Set<string>();
  for (const t of ranked) {
    if (cited.size >= lim.traces) break;
    if (cited.has(t.traceId)) continue;
    cited.add(t.traceId);
    out.push({
      kind: "trace",
      ref: t.traceId,
      range: { start: t.windowStart, end: t.windowStart + 3_600_000 },
      note: `example trace of ${t.journeyKey}${failing(t) ? " (failed)" : ""}${inWorst(t) && failing(t) ? " during the top budget consumer" : ""}`,
    });
  }
  for (const id of input.journey.exampleTraceIds) {
    if (cited.size >= lim.traces || cited.has(id)) continue;
    cited.add(id);
    out.push({ kind: "trace", ref: id, note: `example trace of ${input.journey.key}` });
  }
  const seen = new Set<string>();
  const capsules = [...(input.consumerCapsules ?? []), ...input.capsules];
  for (const cap of capsules) {
    if (seen.size >= lim.capsules) break;
    if (seen.has(cap.fingerprint)) continue;
    seen.add(cap.fingerprint);
    const during = input.consumerCapsules?.includes(cap) ?? false;
    out.push({
      kind: "capsule",
      ref: cap.id,
      range: { start: cap.windowStart, end: cap.windowStart + 3_600_000 },
      note:
        `${cap.service}: ${cap.errors.toLocaleString("en-US")} error line(s) ${during ? "during the top budget consumer" : "in the analysed range"}: ` +
        cap.template.slice(0, 160),
    });
  }
  return out;
}
