import type { Capsule } from "../core/capsule.js";
import type { Sql } from "../store/ports.js";
import {
  listEdgeStats,
  listExampleTraces,
  listRouteStats,
  listWebVitalStats,
  replaceExampleTraces,
  upsertEdgeStats,
  upsertRouteStats,
  upsertWebVitalStats,
} from "../store/repos/aggregates.js";
import { listCapsules, upsertCapsules } from "../store/repos/capsules.js";
import { EXAMPLES_PER_WINDOW, SpanAggregates } from "./span-aggregates.js";
import type { StageChanges } from "./stage.js";
import { mergeCapsule, mergeEdge, mergeExamples, mergeRoute, mergeWebVital } from "./window-merge.js";

/**
 * Adds a change set (what one worker added to each window) to the stored windows. Several workers add to
 * the same window — a journey's traces are spread over every worker, and so are a service's span errors —
 * so each write reads the stored totals and writes them back with the contribution added, while holding
 * a lock every worker of this database takes first: two read-add-writes of one row never interleave.
 */

/** pg_advisory_xact_lock key of the stream stage's window writes (any constant no other lock uses). */
const WINDOWS_LOCK = 0x510_5c07;

/** Held until the transaction ends. */
export async function lockWindows(tx: Sql): Promise<void> {
  await tx.query("SELECT pg_advisory_xact_lock($1)", [WINDOWS_LOCK]);
}

/** The window starts a set of changes spans, as the `since`/`until` of a list query. */
function span(windowStarts: number[]): { since: number; until: number } {
  return { since: Math.min(...windowStarts), until: Math.max(...windowStarts) + 1 };
}

function byKey<T>(rows: T[], key: (t: T) => string): Map<string, T> {
  return new Map(rows.map((r) => [key(r), r]));
}

/** Writes the changes added to the stored windows; returns the capsules as stored now. */
export async function addWindowChanges(
  tx: Sql,
  changes: StageChanges,
  random: () => number,
): Promise<Capsule[]> {
  const capsules = await addCapsules(tx, changes.capsules, random);
  if (changes.routes.length > 0) {
    const routeKey = (r: { journeyKey: string; windowStart: number }) =>
      `${r.journeyKey}\u0000${r.windowStart}`;
    const range = span(changes.routes.map((r) => r.windowStart));
    const stored = byKey(await listRouteStats(tx, range), routeKey);
    await upsertRouteStats(
      tx,
      changes.routes.map((r) => mergeRoute(stored.get(routeKey(r.state)), r.state)),
    );
    // Examples are offered exactly when a route counts a trace: the stored requests are the traces the
    // stored examples were sampled from.
    const examples = new Map<string, ReturnType<typeof mergeExamples>>();
    for (const t of await listExampleTraces(tx, { ...range, limit: 1_000_000 })) {
      const list = examples.get(routeKey(t)) ?? [];
      list.push(t);
      examples.set(routeKey(t), list);
    }
    await replaceExampleTraces(
      tx,
      changes.examples.flatMap((e) =>
        mergeExamples(
          examples.get(routeKey(e.state)) ?? [],
          stored.get(routeKey(e.state))?.requests ?? 0,
          e.state,
          EXAMPLES_PER_WINDOW,
          random,
        ),
      ),
    );
  }
  if (changes.edges.length > 0) {
    const edgeKey = (e: Parameters<typeof SpanAggregates.edgeKey>[0] & { windowStart: number }) =>
      `${SpanAggregates.edgeKey(e)}\u0000${e.windowStart}`;
    const stored = byKey(await listEdgeStats(tx, span(changes.edges.map((e) => e.windowStart))), edgeKey);
    await upsertEdgeStats(
      tx,
      changes.edges.map((e) => mergeEdge(stored.get(edgeKey(e.state)), e.state)),
    );
  }
  if (changes.webVitals.length > 0) {
    const vitalKey = (v: { service: string; page: string; metric: string; windowStart: number }) =>
      [v.service, v.page, v.metric, v.windowStart].join("\u0000");
    const range = span(changes.webVitals.map((v) => v.windowStart));
    const stored = byKey(await listWebVitalStats(tx, range), vitalKey);
    await upsertWebVitalStats(
      tx,
      changes.webVitals.map((v) => mergeWebVital(stored.get(vitalKey(v.state)), v.state)),
    );
  }
  return capsules;
}

async function addCapsules(tx: Sql, added: Capsule[], random: () => number): Promise<Capsule[]> {
  if (added.length === 0) return [];
  const key = (c: Capsule) => [c.service, c.fingerprint, c.windowStart].join("\u0000");
  const stored = new Map<string, Capsule>();
  for (const service of new Set(added.map((c) => c.service))) {
    const range = span(added.filter((c) => c.service === service).map((c) => c.windowStart));
    for (const c of await listCapsules(tx, { service, ...range, limit: 1_000_000 })) stored.set(key(c), c);
  }
  const merged = added.map((c) => mergeCapsule(stored.get(key(c)), c, random));
  await upsertCapsules(tx, merged);
  return merged;
}
