import { createHash } from "node:crypto";
import type { EdgeStats, ExampleTrace, LatencyHistogram, RouteStats } from "../core/aggregates.js";
import type { Journey, JourneyEdge } from "../core/journey.js";

/**
 * Journey discovery from the stream stage's span aggregates. A journey is an entry operation (the root
 * SERVER/CONSUMER span the pipeline keyed as `service operation`) with the calls seen beneath it. Besides
 * the journeys entered at a service, every operation an instrumented service serves to another one is a
 * journey of its own, so `analyze payment` has payment's own endpoints even though users enter at the
 * frontend; traces that lost their upstream spans (partial traces) land in the same key.
 * Pure: aggregates in, ranked journeys out.
 */

export interface JourneyInput {
  routes: readonly RouteStats[];
  edges: readonly EdgeStats[];
  examples?: readonly ExampleTrace[];
}

export interface JourneyOptions {
  /** Distinct journeys kept per service; the least used beyond it fold into `{method} other`. Default 30. */
  maxKeysPerService?: number;
  /** Share of a journey's requests with a browser upstream above which it counts as user-facing. Default 0.5. */
  userFacingShare?: number;
  /** Example trace ids kept per journey. Default 5. */
  examplesPerJourney?: number;
}

const DEFAULTS: Required<JourneyOptions> = {
  maxKeysPerService: 30,
  userFacingShare: 0.5,
  examplesPerJourney: 5,
};

/** A path segment that is an identifier rather than a route word (same rule as the stream stage). */
const ID_SEGMENT = /^(?:\d+|[0-9a-f]{8,}|[0-9a-f-]{32,36}|[A-Za-z0-9_-]{20,})$/i;

/** Whether an operation is a raw URL path with identifiers in it (no route template was known). */
export function isRawPath(operation: string): boolean {
  const path = operation.split(" ")[1];
  if (!path?.startsWith("/")) return false;
  return path
    .split("?")[0]!
    .split("/")
    .some((seg) => ID_SEGMENT.test(seg));
}

// ── histograms ─────────────────────────────────────────────────────────────────────────────────────

function mergeHistograms(a: LatencyHistogram | undefined, b: LatencyHistogram): LatencyHistogram {
  if (!a) return { boundsMs: [...b.boundsMs], counts: [...b.counts], sumMs: b.sumMs };
  if (a.boundsMs.join() === b.boundsMs.join()) {
    for (let i = 0; i < b.counts.length; i++) a.counts[i] = (a.counts[i] ?? 0) + b.counts[i]!;
    a.sumMs += b.sumMs;
    return a;
  }
  // Different bounds (an SDK changed its buckets): re-bucket both onto the union, each count at its upper bound.
  const bounds = [...new Set([...a.boundsMs, ...b.boundsMs])].sort((x, y) => x - y);
  const counts = new Array<number>(bounds.length + 1).fill(0);
  for (const h of [a, b]) {
    h.counts.forEach((c, i) => {
      const idx = i < h.boundsMs.length ? bounds.indexOf(h.boundsMs[i]!) : bounds.length;
      counts[idx] = counts[idx]! + c;
    });
  }
  return { boundsMs: bounds, counts, sumMs: a.sumMs + b.sumMs };
}

/** The q-quantile in ms, linearly interpolated inside its bucket as histogram_quantile does; 0 when empty. */
export function histogramQuantileMs(h: LatencyHistogram, q: number): number {
  const total = h.counts.reduce((x, y) => x + y, 0);
  if (total === 0) return 0;
  const rank = q * total;
  let cum = 0;
  for (let i = 0; i < h.counts.length; i++) {
    const c = h.counts[i]!;
    if (cum + c >= rank && c > 0) {
      if (i >= h.boundsMs.length) return h.boundsMs[h.boundsMs.length - 1] ?? 0;
      const lo = i === 0 ? 0 : h.boundsMs[i - 1]!;
      return lo + (h.boundsMs[i]! - lo) * ((rank - cum) / c);
    }
    cum += c;
  }
  return h.boundsMs[h.boundsMs.length - 1] ?? 0;
}

// ── discovery ──────────────────────────────────────────────────────────────────────────────────────

interface EntryAcc {
  key: string;
  service: string;
  method?: string;
  route?: string;
  operations: Set<string>;
  requests: number;
  errors: number;
  clientErrors: number;
  fromBrowser: number;
  latency?: LatencyHistogram;
}

interface EdgeAcc {
  from: string;
  to: string;
  operation: string;
  calls: number;
  errors: number;
  latency?: LatencyHistogram;
}

const edgeId = (e: { from: string; to: string; operation: string }) =>
  `${e.from}\u0000${e.to}\u0000${e.operation}`;

function methodOf(operation: string, method?: string): string {
  if (method) return method;
  const first = operation.split(" ")[0] ?? "";
  return /^[A-Z]+$/.test(first) ? first : "other";
}

/** Raw-path keys, and the least used keys past the per-service cap, fold into `{service} {method} other`. */
function foldKeys(entries: Map<string, EntryAcc>, max: number): Map<string, string> {
  const byService = new Map<string, EntryAcc[]>();
  for (const e of entries.values()) {
    const list = byService.get(e.service);
    if (list) list.push(e);
    else byService.set(e.service, [e]);
  }
  const folded = new Map<string, string>();
  for (const [service, list] of byService) {
    list.sort((a, b) => b.requests - a.requests || a.key.localeCompare(b.key));
    let kept = 0;
    for (const e of list) {
      const op = [...e.operations][0] ?? "";
      const raw = !e.route && isRawPath(op);
      if (raw || kept >= max) {
        folded.set(e.key, `${service} ${methodOf(op, e.method)} other`);
      } else {
        kept++;
        folded.set(e.key, e.key);
      }
    }
  }
  return folded;
}

function addEntry(
  map: Map<string, EntryAcc>,
  key: string,
  e: Omit<EntryAcc, "key" | "operations"> & { operation: string },
) {
  let acc = map.get(key);
  if (!acc) {
    acc = {
      key,
      service: e.service,
      operations: new Set(),
      requests: 0,
      errors: 0,
      clientErrors: 0,
      fromBrowser: 0,
    };
    map.set(key, acc);
  }
  if (e.method && !acc.method) acc.method = e.method;
  if (e.route && !acc.route) acc.route = e.route;
  acc.operations.add(e.operation);
  acc.requests += e.requests;
  acc.errors += e.errors;
  acc.clientErrors += e.clientErrors;
  acc.fromBrowser += e.fromBrowser;
  if (e.latency) acc.latency = mergeHistograms(acc.latency, e.latency);
}

function addEdge(map: Map<string, EdgeAcc>, e: EdgeAcc) {
  const id = edgeId(e);
  const acc = map.get(id);
  if (!acc) {
    map.set(id, { ...e, latency: e.latency ? mergeHistograms(undefined, e.latency) : undefined });
    return;
  }
  acc.calls += e.calls;
  acc.errors += e.errors;
  if (e.latency) acc.latency = mergeHistograms(acc.latency, e.latency);
}

/** The edges reachable from `service` in a DAG (the service's own part of a journey). */
function subtreeFrom(service: string, edges: Iterable<EdgeAcc>): EdgeAcc[] {
  const list = [...edges];
  const reached = new Set([service]);
  const out: EdgeAcc[] = [];
  const taken = new Set<EdgeAcc>();
  let grew = true;
  while (grew) {
    grew = false;
    for (const e of list) {
      if (!taken.has(e) && reached.has(e.from)) {
        taken.add(e);
        out.push(e);
        if (!reached.has(e.to)) {
          reached.add(e.to);
          grew = true;
        }
        grew = true;
      }
    }
  }
  return out;
}

/** Longest chain of service hops from `root` (cycles are cut). */
function depthFrom(root: string, edges: readonly JourneyEdge[]): number {
  const next = new Map<string, Set<string>>();
  for (const e of edges) {
    if (e.from === e.to) continue;
    const s = next.get(e.from);
    if (s) s.add(e.to);
    else next.set(e.from, new Set([e.to]));
  }
  const memo = new Map<string, number>();
  const visit = (node: string, path: Set<string>): number => {
    const known = memo.get(node);
    if (known !== undefined) return known;
    let best = 0;
    for (const to of next.get(node) ?? []) {
      if (path.has(to)) continue;
      path.add(to);
      best = Math.max(best, 1 + visit(to, path));
      path.delete(to);
    }
    memo.set(node, best);
    return best;
  };
  return visit(root, new Set([root]));
}

/** sha256 over the sorted edge set: journeys with the same call graph share a signature. */
export function edgeSignature(edges: readonly { from: string; to: string; operation: string }[]): string {
  const lines = [...new Set(edges.map((e) => `${e.from}->${e.to}:${e.operation}`))].sort();
  return createHash("sha256").update(lines.join("\n")).digest("hex").slice(0, 16);
}

function toEdges(accs: Iterable<EdgeAcc>): JourneyEdge[] {
  return [...accs]
    .map((e) => ({
      from: e.from,
      to: e.to,
      operation: e.operation,
      calls: e.calls,
      errorShare: e.calls > 0 ? Math.min(1, e.errors / e.calls) : 0,
      p50Ms: round(e.latency ? histogramQuantileMs(e.latency, 0.5) : 0),
      p95Ms: round(e.latency ? histogramQuantileMs(e.latency, 0.95) : 0),
    }))
    .sort((a, b) => b.calls - a.calls || a.from.localeCompare(b.from) || a.to.localeCompare(b.to));
}

const round = (x: number) => Math.round(x * 100) / 100;

/** Per-journey latency of the entry operation, kept apart from the Journey type for recommendations. */
export interface JourneyExtras {
  latency?: LatencyHistogram;
  clientErrors: number;
  /** True when the journey was derived from calls into its service rather than seen as a trace root only. */
  derived: boolean;
}

export interface DiscoveredJourneys {
  journeys: Journey[];
  extras: Map<string, JourneyExtras>;
}

/**
 * Builds ranked journeys. Ranking score (shown, so a reviewer can see why one journey comes first):
 * 0.4 × traffic share within its service + 0.25 × user-facing + 0.2 × error impact (its server errors
 * relative to the worst journey's) + 0.15 × depth (4+ hops = full).
 */
export function discoverJourneys(input: JourneyInput, options: JourneyOptions = {}): DiscoveredJourneys {
  const o = { ...DEFAULTS, ...options };
  const rawEntries = new Map<string, EntryAcc>();
  for (const r of input.routes) {
    addEntry(rawEntries, r.journeyKey, {
      service: r.service,
      method: r.method,
      route: r.route,
      operation: r.operation,
      requests: r.requests,
      errors: r.errors,
      clientErrors: r.clientErrors,
      fromBrowser: r.fromBrowser,
      latency: r.latency,
    });
  }
  // A call whose callee's spans were lost (a partial trace) names the peer by host, e.g.
  // `api-gateway.shop.svc.cluster.local`: that is the instrumented service of that name.
  const emitters = new Set([...input.routes.map((r) => r.service), ...input.edges.map((e) => e.from)]);
  const peerService = (to: string) => {
    if (emitters.has(to)) return to;
    const host = to.split(":")[0]!;
    return [...emitters].find((s) => host.startsWith(`${s}.`)) ?? to;
  };
  // Edges per raw journey key.
  const rawEdges = new Map<string, Map<string, EdgeAcc>>();
  const byHost = new Set<string>();
  for (const raw of input.edges) {
    const e = { ...raw, to: peerService(raw.to) };
    if (e.to !== raw.to) byHost.add(`${e.journeyKey}\u0000${edgeId(e)}`);
    let m = rawEdges.get(e.journeyKey);
    if (!m) {
      m = new Map();
      rawEdges.set(e.journeyKey, m);
    }
    addEdge(m, {
      from: e.from,
      to: e.to,
      operation: e.operation,
      calls: e.calls,
      errors: e.errors,
      latency: e.latency,
    });
  }

  // Services that emit spans themselves: only they get journeys for the operations they serve (a database
  // or a third party seen as a peer has no journey of its own).
  const instrumented = new Set<string>();
  for (const r of input.routes) instrumented.add(r.service);
  for (const m of rawEdges.values()) for (const e of m.values()) instrumented.add(e.from);

  // Operations served to another service: journeys of the callee, with the callee's part of the DAG.
  const derivedEdges = new Map<string, Map<string, EdgeAcc>>();
  const derivedParents = new Map<string, Set<string>>();
  for (const [parentKey, m] of rawEdges) {
    const parentService = rawEntries.get(parentKey)?.service;
    for (const e of m.values()) {
      if (!instrumented.has(e.to) || e.to === e.from || e.to === parentService) continue;
      // Seen only from the caller's side (its spans were lost): no operation of the callee to key on.
      if (byHost.has(`${parentKey}\u0000${edgeId(e)}`)) continue;
      if (e.from === e.to) continue;
      const key = `${e.to} ${e.operation}`;
      addEntry(rawEntries, key, {
        service: e.to,
        operation: e.operation,
        requests: e.calls,
        errors: e.errors,
        clientErrors: 0,
        fromBrowser: 0,
        latency: e.latency,
        ...httpParts(e.operation),
      });
      let dm = derivedEdges.get(key);
      if (!dm) {
        dm = new Map();
        derivedEdges.set(key, dm);
      }
      // The callee's part of this parent's DAG, once per parent and operation.
      for (const sub of subtreeFrom(e.to, m.values())) addEdge(dm, { ...sub });
      let parents = derivedParents.get(key);
      if (!parents) {
        parents = new Set();
        derivedParents.set(key, parents);
      }
      parents.add(parentKey);
    }
  }

  const fold = foldKeys(rawEntries, o.maxKeysPerService);
  const entries = new Map<string, EntryAcc>();
  for (const e of rawEntries.values()) {
    const key = fold.get(e.key)!;
    const folded = key !== e.key;
    for (const op of e.operations) {
      addEntry(entries, key, {
        service: e.service,
        method: folded ? methodOf(op, e.method) : e.method,
        route: folded ? undefined : e.route,
        operation: folded ? key.slice(e.service.length + 1) : op,
        requests: 0,
        errors: 0,
        clientErrors: 0,
        fromBrowser: 0,
      });
    }
    addEntry(entries, key, {
      service: e.service,
      operation: folded ? key.slice(e.service.length + 1) : [...e.operations][0]!,
      requests: e.requests,
      errors: e.errors,
      clientErrors: e.clientErrors,
      fromBrowser: e.fromBrowser,
      latency: e.latency,
    });
  }
  const edges = new Map<string, Map<string, EdgeAcc>>();
  const parents = new Map<string, Set<string>>();
  for (const source of [rawEdges, derivedEdges]) {
    for (const [rawKey, m] of source) {
      const key = fold.get(rawKey) ?? rawKey;
      let target = edges.get(key);
      if (!target) {
        target = new Map();
        edges.set(key, target);
      }
      for (const e of m.values()) addEdge(target, { ...e });
    }
  }
  for (const [rawKey, ps] of derivedParents) {
    const key = fold.get(rawKey) ?? rawKey;
    const set = parents.get(key) ?? new Set();
    for (const p of ps) set.add(fold.get(p) ?? p);
    parents.set(key, set);
  }

  // Example traces: a journey's own, then (for derived journeys) its parents' that went through it.
  const examplesByKey = new Map<string, ExampleTrace[]>();
  for (const t of input.examples ?? []) {
    const key = fold.get(t.journeyKey) ?? t.journeyKey;
    const list = examplesByKey.get(key);
    if (list) list.push(t);
    else examplesByKey.set(key, [t]);
  }
  for (const list of examplesByKey.values()) list.sort((a, b) => b.windowStart - a.windowStart);

  const requestsByService = new Map<string, number>();
  for (const e of entries.values()) {
    requestsByService.set(e.service, (requestsByService.get(e.service) ?? 0) + e.requests);
  }
  const maxErrors = Math.max(0, ...[...entries.values()].map((e) => e.errors));

  const journeys: Journey[] = [];
  const extras = new Map<string, JourneyExtras>();
  for (const e of entries.values()) {
    const downstream = toEdges(edges.get(e.key)?.values() ?? []);
    const depth = depthFrom(e.service, downstream);
    const serviceRequests = requestsByService.get(e.service) ?? 0;
    const trafficShare = serviceRequests > 0 ? e.requests / serviceRequests : 0;
    const errorShare = e.requests > 0 ? Math.min(1, e.errors / e.requests) : 0;
    const userFacing = e.requests > 0 && e.fromBrowser / e.requests >= o.userFacingShare;
    const errorImpact = maxErrors > 0 ? e.errors / maxErrors : 0;
    const score =
      0.4 * trafficShare + 0.25 * (userFacing ? 1 : 0) + 0.2 * errorImpact + 0.15 * Math.min(1, depth / 4);
    const own = examplesByKey.get(e.key) ?? [];
    const viaParents = [...(parents.get(e.key) ?? [])]
      .flatMap((p) => examplesByKey.get(p) ?? [])
      .filter((t) => t.spans.some((s) => s.service === e.service))
      .sort((a, b) => b.windowStart - a.windowStart);
    const exampleTraceIds = [...new Set([...own, ...viaParents].map((t) => t.traceId))].slice(
      0,
      o.examplesPerJourney,
    );
    journeys.push({
      key: e.key,
      service: e.service,
      ...(e.method ? { method: e.method } : {}),
      ...(e.route ? { route: e.route } : {}),
      entrySpans: [...e.operations].sort(),
      downstream,
      signature: edgeSignature(downstream),
      trafficShare: round4(trafficShare),
      requests: e.requests,
      errorShare: round4(errorShare),
      depth,
      userFacing,
      score: round4(score),
      exampleTraceIds,
    });
    extras.set(e.key, {
      latency: e.latency,
      clientErrors: e.clientErrors,
      derived:
        derivedEdges.has(e.key) ||
        [...fold.entries()].some(([raw, k]) => k === e.key && derivedEdges.has(raw)),
    });
  }
  journeys.sort((a, b) => b.score - a.score || b.requests - a.requests || a.key.localeCompare(b.key));
  return { journeys, extras };
}

const round4 = (x: number) => Math.round(x * 10_000) / 10_000;

/** `GET /orders/{id}` → method and route, when the operation reads as HTTP. */
function httpParts(operation: string): { method?: string; route?: string } {
  const m = /^([A-Z]+) (\/\S*)$/.exec(operation);
  if (!m || isRawPath(operation)) return m ? { method: m[1] } : {};
  return { method: m[1], route: m[2] };
}

/** Journeys that involve a service: entered at it, or passing through it. */
export function journeysOf(service: string, journeys: readonly Journey[]): Journey[] {
  return journeys.filter(
    (j) => j.service === service || j.downstream.some((e) => e.to === service || e.from === service),
  );
}
