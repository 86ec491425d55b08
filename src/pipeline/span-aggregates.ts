import type { EdgeStats, ExampleTrace, RouteStats } from "../core/aggregates.js";
import { emptyHistogram, observe } from "./histogram.js";
import { offerInto } from "./reservoir.js";
import type { TraceObservations, TraceSpan } from "./trace-summary.js";
import { TumblingWindows, type WindowOptions } from "./windows.js";

/**
 * Collects the spans of each trace until it has been quiet for a while, so a trace is summarised once,
 * whole. Spans of one trace arrive from several services within seconds of each other; a trace still open
 * after `maxAgeMs` is summarised as it is (a partial trace is better than none).
 */
/** Where a span sits on the bus. */
export interface SpanOrigin {
  partition: number;
  offset: number;
}

export class TraceAssembler {
  private readonly traces = new Map<
    string,
    { spans: TraceSpan[]; spanIds: Set<string>; firstSeen: number; lastSeen: number; origin?: SpanOrigin }
  >();

  constructor(
    private readonly options: { quietMs: number; maxAgeMs: number; maxTraces: number } = {
      quietMs: 10_000,
      maxAgeMs: 60_000,
      maxTraces: 50_000,
    },
  ) {}

  /**
   * Returns traces pushed out because the buffer is full (oldest first). `origin`: where the span sits on
   * the bus (a trace's spans share a partition), so heldFrom() can tell which offsets are still needed.
   */
  add(span: TraceSpan, now: number, origin?: SpanOrigin): TraceSpan[][] {
    const id = span.span.traceId;
    const entry = this.traces.get(id);
    if (entry) {
      // A span comes twice when its batch is consumed again (another worker stored part of it first).
      if (!entry.spanIds.has(span.span.spanId)) {
        entry.spanIds.add(span.span.spanId);
        entry.spans.push(span);
      }
      entry.lastSeen = now;
      return [];
    }
    this.traces.set(id, {
      spans: [span],
      spanIds: new Set([span.span.spanId]),
      firstSeen: now,
      lastSeen: now,
      ...(origin ? { origin } : {}),
    });
    const evicted: TraceSpan[][] = [];
    while (this.traces.size > this.options.maxTraces) {
      const [oldest, value] = this.traces.entries().next().value as [string, { spans: TraceSpan[] }];
      this.traces.delete(oldest);
      evicted.push(value.spans);
    }
    return evicted;
  }

  /** Per partition, the lowest offset of a span of a trace still open (its first span's). */
  heldFrom(): Map<number, number> {
    const out = new Map<number, number>();
    for (const t of this.traces.values()) {
      if (!t.origin) continue;
      const { partition, offset } = t.origin;
      out.set(partition, Math.min(out.get(partition) ?? offset, offset));
    }
    return out;
  }

  /** Traces that are complete by the quiet/age rule at `now`. */
  drain(now: number): TraceSpan[][] {
    const out: TraceSpan[][] = [];
    for (const [id, t] of this.traces) {
      if (now - t.lastSeen >= this.options.quietMs || now - t.firstSeen >= this.options.maxAgeMs) {
        this.traces.delete(id);
        out.push(t.spans);
      }
    }
    return out;
  }

  drainAll(): TraceSpan[][] {
    const out = [...this.traces.values()].map((t) => t.spans);
    this.traces.clear();
    return out;
  }

  get size(): number {
    return this.traces.size;
  }
}

/** Example traces kept per journey and window. */
export const EXAMPLES_PER_WINDOW = 5;

type RouteState = RouteStats;
type EdgeState = EdgeStats;
export interface ExampleState {
  journeyKey: string;
  windowStart: number;
  seen: number;
  traces: ExampleTrace[];
}

/**
 * Per-window span aggregates: one RouteStats per journey entry, one EdgeStats per call under a journey,
 * and a uniform reservoir of example traces per journey, of the traces this worker added since the last
 * write (window-merge.ts adds them to the stored window).
 */
export class SpanAggregates {
  readonly routes: TumblingWindows<RouteState>;
  readonly edges: TumblingWindows<EdgeState>;
  readonly examples: TumblingWindows<ExampleState>;

  constructor(
    options: WindowOptions,
    private readonly examplesPerWindow = EXAMPLES_PER_WINDOW,
    private readonly random: () => number = Math.random,
  ) {
    this.routes = new TumblingWindows<RouteState>(options, (journeyKey, windowStart) => ({
      journeyKey,
      service: "",
      operation: "",
      windowStart,
      requests: 0,
      errors: 0,
      clientErrors: 0,
      fromBrowser: 0,
      latency: emptyHistogram(),
    }));
    this.edges = new TumblingWindows<EdgeState>(options, (key, windowStart) => {
      const [journeyKey, from, to, operation] = key.split("\u0000") as [string, string, string, string];
      return { journeyKey, from, to, operation, windowStart, calls: 0, errors: 0, latency: emptyHistogram() };
    });
    this.examples = new TumblingWindows<ExampleState>(options, (journeyKey, windowStart) => ({
      journeyKey,
      windowStart,
      seen: 0,
      traces: [],
    }));
  }

  static edgeKey(e: { journeyKey: string; from: string; to: string; operation: string }): string {
    return [e.journeyKey, e.from, e.to, e.operation].join("\u0000");
  }

  /** Applies one summarised trace; returns the number of observations dropped as too late. */
  apply(obs: TraceObservations): number {
    const entry = obs.entry;
    if (!entry) return 0;
    let late = 0;
    const outcome = this.routes.add(
      entry.journeyKey,
      entry.time,
      (s) => {
        s.service = entry.service;
        s.operation = entry.operation;
        if (entry.method) s.method = entry.method;
        if (entry.route) s.route = entry.route;
        s.requests++;
        if (entry.outcome === "server-error") s.errors++;
        if (entry.outcome === "client-error") s.clientErrors++;
        if (entry.fromBrowser) s.fromBrowser++;
        observe(s.latency, entry.durationMs);
      },
      entry.service,
    );
    if (outcome === "late") return 1;
    for (const e of obs.edges) {
      // Edges are windowed by the entry's time so a journey's DAG and its requests share a window.
      const r = this.edges.add(
        SpanAggregates.edgeKey(e),
        entry.time,
        (s) => {
          s.calls++;
          if (e.error) s.errors++;
          observe(s.latency, e.durationMs);
        },
        entry.service,
      );
      if (r === "late") late++;
    }
    this.examples.add(
      entry.journeyKey,
      entry.time,
      (s) => {
        s.seen++;
        const example: ExampleTrace = {
          journeyKey: entry.journeyKey,
          traceId: obs.traceId,
          windowStart: s.windowStart,
          spans: obs.spans,
        };
        offerInto(s.traces, s.seen, example, this.examplesPerWindow, this.random);
      },
      entry.service,
    );
    return late;
  }
}
