import type { SpanSummary } from "../core/aggregates.js";
import type { Attributes, Span } from "../core/telemetry.js";

/**
 * Turns one assembled trace into what journey discovery needs: the journey it belongs to (its top entry
 * span), that entry's outcome, and the service→service calls beneath it. Pure: spans in, observations out.
 */

export interface TraceSpan {
  service: string;
  /** Resource attributes, used to recognise browser SDKs. */
  resource: Attributes;
  span: Span;
}

export interface EntryObservation {
  journeyKey: string;
  service: string;
  method?: string;
  route?: string;
  operation: string;
  time: number;
  durationMs: number;
  outcome: "ok" | "client-error" | "server-error";
  fromBrowser: boolean;
}

export interface EdgeObservation {
  journeyKey: string;
  from: string;
  to: string;
  operation: string;
  time: number;
  durationMs: number;
  error: boolean;
}

export interface TraceObservations {
  traceId: string;
  entry?: EntryObservation;
  edges: EdgeObservation[];
  spans: SpanSummary[];
}

/** Keys per service beyond which new raw keys fold into `{method} other`; keeps cardinality bounded. */
export interface KeyBudget {
  admit(service: string, key: string): boolean;
}

export function keyBudget(maxPerService = 200): KeyBudget {
  const seen = new Map<string, Set<string>>();
  return {
    admit(service, key) {
      let keys = seen.get(service);
      if (!keys) {
        keys = new Set();
        seen.set(service, keys);
      }
      if (keys.has(key)) return true;
      if (keys.size >= maxPerService) return false;
      keys.add(key);
      return true;
    },
  };
}

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

export function isBrowser(t: TraceSpan): boolean {
  const lang = str(t.resource["telemetry.sdk.language"]);
  return lang === "webjs" || str(t.resource["browser.platform"]) !== undefined || t.service === "web-browser";
}

function statusCode(span: Span): number | undefined {
  const v = span.attributes["http.response.status_code"] ?? span.attributes["http.status_code"];
  const n = typeof v === "string" ? Number(v) : v;
  return typeof n === "number" && Number.isFinite(n) ? n : undefined;
}

/** The path of an absolute URL, undefined when it is not one. */
function pathOf(url: string | undefined): string | undefined {
  if (url === undefined || !URL.canParse(url)) return undefined;
  return new URL(url).pathname;
}

/** A path segment that is an identifier rather than a route word: digits, hex ids, UUIDs, long tokens. */
const ID_SEGMENT = /^(?:\d+|[0-9a-f]{8,}|[0-9a-f-]{32,36}|[A-Za-z0-9_-]{20,})$/i;

/**
 * The operation a span stands for, by the fallbacks the issue lists: `METHOD route`, else the span name;
 * `rpc.service/rpc.method`; `destination operation` for messaging. `rawPath` is true when only a raw URL
 * path with identifiers in it was available, so the caller can fold it.
 */
export function operationOf(span: Span): {
  operation: string;
  method?: string;
  route?: string;
  rawPath: boolean;
} {
  const a = span.attributes;
  const method = str(a["http.request.method"]) ?? str(a["http.method"]);
  const route = str(a["http.route"]);
  if (method && route) return { operation: `${method} ${route}`, method, route, rawPath: false };
  const rpcService = str(a["rpc.service"]);
  const rpcMethod = str(a["rpc.method"]);
  if (rpcService && rpcMethod) return { operation: `${rpcService}/${rpcMethod}`, rawPath: false };
  const destination = str(a["messaging.destination.name"]);
  if (destination) {
    const op = str(a["messaging.operation.type"]) ?? str(a["messaging.operation"]) ?? span.kind;
    return { operation: `${destination} ${op}`, rawPath: false };
  }
  if (method) {
    // A client span carries its URL as url.full (http.url before semconv 1.21) and is named by the method
    // alone, so the span name is a path only when it holds more than the method.
    const named = span.name.startsWith(`${method} `) ? span.name.slice(method.length + 1) : span.name;
    const path =
      str(a["url.path"]) ??
      str(a["http.target"]) ??
      pathOf(str(a["url.full"]) ?? str(a["http.url"])) ??
      (named === method ? undefined : named);
    if (path === undefined) return { operation: method, method, rawPath: false };
    const raw = path
      .split("?")[0]!
      .split("/")
      .some((seg) => ID_SEGMENT.test(seg));
    return { operation: raw ? `${method} other` : `${method} ${path}`, method, rawPath: raw };
  }
  return { operation: span.name, rawPath: false };
}

/** The peer a client/producer span calls when the callee sent no spans of its own (databases, queues, third parties). */
function peerOf(span: Span): string | undefined {
  const a = span.attributes;
  return (
    str(a["db.system.name"]) ??
    str(a["db.system"]) ??
    str(a["messaging.destination.name"]) ??
    str(a["peer.service"]) ??
    str(a["server.address"]) ??
    str(a["net.peer.name"])
  );
}

function isError(span: Span): boolean {
  const code = statusCode(span);
  return span.status === "error" || (code !== undefined && code >= 500);
}

export function summarizeTrace(trace: TraceSpan[], budget: KeyBudget = keyBudget()): TraceObservations {
  const byId = new Map(trace.map((t) => [t.span.spanId, t]));
  const children = new Map<string, TraceSpan[]>();
  const roots: TraceSpan[] = [];
  for (const t of trace) {
    const parent = t.span.parentSpanId ? byId.get(t.span.parentSpanId) : undefined;
    if (!parent) roots.push(t);
    else {
      const list = children.get(parent.span.spanId);
      if (list) list.push(t);
      else children.set(parent.span.spanId, [t]);
    }
  }
  roots.sort((a, b) => a.span.startTime - b.span.startTime);
  const traceId = trace[0]?.span.traceId ?? "";
  const spans: SpanSummary[] = trace.map((t) => ({
    spanId: t.span.spanId,
    parentSpanId: t.span.parentSpanId,
    service: t.service,
    name: t.span.name,
    kind: t.span.kind,
    durationMs: t.span.endTime - t.span.startTime,
    status: t.span.status,
    attributes: pick(t.span.attributes),
  }));

  // The journey's entry: the first server/consumer span at or under the earliest root, looking through
  // browser spans (a browser root is the upstream "user", not a journey of its own).
  let entry: TraceSpan | undefined;
  let fromBrowser = false;
  const queue = roots.slice(0, 1);
  while (queue.length > 0 && !entry) {
    const t = queue.shift()!;
    if (isBrowser(t)) fromBrowser = true;
    else if (t.span.kind === "server" || t.span.kind === "consumer") {
      entry = t;
      break;
    }
    queue.push(...(children.get(t.span.spanId) ?? []).sort((a, b) => a.span.startTime - b.span.startTime));
  }
  if (!entry) return { traceId, edges: [], spans };

  const op = operationOf(entry.span);
  let operation = op.operation;
  if (!budget.admit(entry.service, operation)) operation = `${op.method ?? entry.span.kind} other`;
  const journeyKey = `${entry.service} ${operation}`;
  const code = statusCode(entry.span);
  const outcome: EntryObservation["outcome"] = isError(entry.span)
    ? "server-error"
    : code !== undefined && code >= 400
      ? "client-error"
      : "ok";
  const entryObs: EntryObservation = {
    journeyKey,
    service: entry.service,
    method: op.method,
    route: op.route,
    operation,
    time: entry.span.startTime,
    durationMs: entry.span.endTime - entry.span.startTime,
    outcome,
    fromBrowser,
  };

  // Calls beneath the entry: a span whose parent is in another service is a call from that service; a
  // client/producer span without a child in another service is a call to an uninstrumented peer.
  const edges: EdgeObservation[] = [];
  const walk = (t: TraceSpan) => {
    const kids = children.get(t.span.spanId) ?? [];
    const crosses = kids.some((k) => k.service !== t.service);
    if ((t.span.kind === "client" || t.span.kind === "producer") && !crosses) {
      const peer = peerOf(t.span);
      if (peer && peer !== t.service) {
        edges.push({
          journeyKey,
          from: t.service,
          to: peer,
          operation: operationOf(t.span).operation,
          time: t.span.startTime,
          durationMs: t.span.endTime - t.span.startTime,
          error: isError(t.span),
        });
      }
    }
    for (const k of kids) {
      if (k.service !== t.service) {
        edges.push({
          journeyKey,
          from: t.service,
          to: k.service,
          operation: operationOf(k.span).operation,
          time: k.span.startTime,
          durationMs: k.span.endTime - k.span.startTime,
          error: isError(k.span),
        });
      }
      walk(k);
    }
  };
  walk(entry);
  return { traceId, entry: entryObs, edges, spans };
}

const KEPT_ATTRIBUTES = [
  "http.request.method",
  "http.route",
  "http.response.status_code",
  "rpc.service",
  "rpc.method",
  "db.system",
  "messaging.destination.name",
  "exception.type",
];

function pick(a: Attributes): Attributes {
  const out: Attributes = {};
  for (const k of KEPT_ATTRIBUTES) if (a[k] !== undefined) out[k] = a[k]!;
  return out;
}
