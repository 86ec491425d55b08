import type { Capsule, CapsuleEvent } from "../core/capsule.js";
import type { MetricSeries, TelemetryEvent } from "../core/telemetry.js";
import { CapsuleAggregates } from "./capsules.js";
import { Fingerprinter, type FingerprinterState } from "./fingerprint/fingerprinter.js";
import { createFingerprintStage, type FingerprintStage } from "./fingerprint/stage.js";
import type { Redactor } from "./redact.js";
import { rumEventKey } from "./rum-key.js";
import { EXAMPLES_PER_WINDOW, SpanAggregates, type SpanOrigin, TraceAssembler } from "./span-aggregates.js";
import { keyBudget, summarizeTrace, type TraceSpan } from "./trace-summary.js";
import { WebVitalAggregates } from "./web-vitals.js";
import type { LateCounts, WindowOptions } from "./windows.js";

/**
 * The stream stage's in-memory state and logic, without I/O: every signal from `raw-telemetry` is routed
 * here — logs, span exceptions and RUM errors are redacted, fingerprinted and counted into capsules; spans
 * are assembled into traces and aggregated per journey; metric series are collected for the samples table;
 * RUM measurements become web-vital histograms. `takeChanges()` hands out what must be persisted: what
 * this stage added to each window since the last call (the store adds it to the window's total).
 * Browser events with an identity (rumEventKey) wait until the caller has looked up which of them the
 * store applied before (foldRum), as completed traces do, so a redelivered one is not counted again.
 *
 * Redaction comes before fingerprinting, so no PII can become part of a template, a sample or a hash.
 */

export interface StageOptions {
  windows: WindowOptions;
  redact: Redactor;
  random: () => number;
  /** Trace assembly: a trace is complete after this long without a new span (processing time). */
  traceQuietMs?: number;
  traceMaxAgeMs?: number;
}

export interface StageChanges {
  samples: MetricSeries[];
  capsules: Capsule[];
  capsuleEvents: CapsuleEvent[];
  routes: ReturnType<SpanAggregates["routes"]["takeChanges"]>;
  edges: ReturnType<SpanAggregates["edges"]["takeChanges"]>;
  examples: ReturnType<SpanAggregates["examples"]["takeChanges"]>;
  webVitals: ReturnType<WebVitalAggregates["windows"]["takeChanges"]>;
  /** Trace ids whose aggregates are in this change set. */
  traces: { traceId: string; windowStart: number }[];
  /** Keys of the browser events (rumEventKey) whose effects are in this change set. */
  rum: { key: string; windowStart: number }[];
  fingerprinterState?: FingerprinterState;
  watermarks: Map<string, number>;
  /** Events dropped as too late since the previous change set. */
  droppedLate: number;
  /** Per service, late events dropped and late events that corrected a closed window, in this change set. */
  late: Map<string, LateCounts>;
}

export interface StageCounters {
  events: number;
  droppedLate: number;
}

export class TelemetryStage {
  readonly capsules: CapsuleAggregates;
  readonly spans: SpanAggregates;
  readonly vitals: WebVitalAggregates;
  private readonly assembler: TraceAssembler;
  private readonly budget = keyBudget();
  private readonly fingerprintStage: FingerprintStage;
  private fingerprinterChanged = false;
  private samples: MetricSeries[] = [];
  private capsuleEvents: CapsuleEvent[] = [];
  readonly counters: StageCounters = { events: 0, droppedLate: 0 };
  private droppedLateTaken = 0;

  constructor(options: StageOptions, fingerprinterState?: FingerprinterState) {
    this.capsules = new CapsuleAggregates(options.windows, options.random);
    this.spans = new SpanAggregates(options.windows, EXAMPLES_PER_WINDOW, options.random);
    this.vitals = new WebVitalAggregates(options.windows);
    this.assembler = new TraceAssembler({
      quietMs: options.traceQuietMs ?? 10_000,
      maxAgeMs: options.traceMaxAgeMs ?? 60_000,
      maxTraces: 50_000,
    });
    this.fingerprintStage = createFingerprintStage({
      redactor: options.redact,
      fingerprinter: fingerprinterState ? Fingerprinter.fromJSON(fingerprinterState) : new Fingerprinter(),
    });
  }

  /** Every aggregator's windows, for the watermarks. */
  get windows() {
    return [
      this.capsules.windows,
      this.spans.routes,
      this.spans.edges,
      this.spans.examples,
      this.vitals.windows,
    ];
  }

  /** Event-time watermark per service (the clock every window of that service runs on). */
  get watermarks(): Map<string, number> {
    const out = new Map<string, number>();
    for (const w of this.windows) {
      for (const [clock, t] of w.watermarks) out.set(clock, Math.max(out.get(clock) ?? t, t));
    }
    return out;
  }

  restoreWatermark(service: string, t: number): void {
    for (const w of this.windows) w.restoreWatermark(t, service);
  }

  /** `origin`: where the event sits on the bus (spans of open traces are held; see heldFrom). */
  apply(event: TelemetryEvent, now: number, origin?: SpanOrigin): void {
    this.counters.events++;
    switch (event.kind) {
      case "metric":
        this.samples.push(event.metric);
        return;
      case "span":
        for (const evicted of this.assembler.add(
          { service: event.service, resource: event.attributes, span: event.span },
          now,
          origin,
        )) {
          this.applyTrace(evicted);
        }
        this.fingerprint(event);
        return;
      case "log":
        this.fingerprint(event);
        return;
      case "rum": {
        const key = rumEventKey(event);
        if (key === undefined) this.applyRum(event);
        else if (!this.pendingRum.has(key)) this.pendingRum.set(key, event);
        return;
      }
    }
  }

  /** Browser events waiting for foldRum, by key: one delivered twice before the fold is held once. */
  private pendingRum = new Map<string, TelemetryEvent & { kind: "rum" }>();

  /** Whether anything of the event landed in a window (false when it was too late for all of them). */
  private applyRum(event: TelemetryEvent & { kind: "rum" }): boolean {
    const vitals = this.vitals.apply(event.service, event.time, event.rum);
    this.counters.droppedLate += vitals.late;
    return this.fingerprint(event) || vitals.applied > 0;
  }

  /** Keys of the browser events waiting to be folded (the caller looks them up in the store). */
  pendingRumKeys(): string[] {
    return [...this.pendingRum.keys()];
  }

  /**
   * Applies the waiting browser events except those applied before (by an earlier delivery); returns the
   * keys of those that landed in a window. One dropped as too late is not recorded, so an import of older
   * history (which has no correction horizon) can still add it.
   */
  foldRum(alreadyApplied: Set<string>): { key: string; windowStart: number }[] {
    const applied: { key: string; windowStart: number }[] = [];
    for (const [key, event] of this.pendingRum) {
      if (alreadyApplied.has(key)) continue;
      if (this.applyRum(event))
        applied.push({ key, windowStart: this.vitals.windows.windowStart(event.time) });
    }
    this.pendingRum = new Map();
    return applied;
  }

  /** Whether the event became part of a capsule (false: nothing to fingerprint, or too late). */
  private fingerprint(event: TelemetryEvent): boolean {
    const ev = this.fingerprintStage(event);
    if (!ev) return false;
    if (ev.aliases.length > 0 || !this.knownFingerprints.has(ev.fingerprint)) {
      this.knownFingerprints.add(ev.fingerprint);
      this.fingerprinterChanged = true;
    }
    const { aliases: _aliases, ...capsuleEvent } = ev;
    if (this.capsules.apply(capsuleEvent) === "late") {
      this.counters.droppedLate++;
      return false;
    }
    this.capsuleEvents.push(capsuleEvent);
    return true;
  }

  /** Fingerprints emitted since start; a new one means the template tree changed and must be saved. */
  private readonly knownFingerprints = new Set<string>();

  private pendingTraces: { traceId: string; windowStart: number; obs: ReturnType<typeof summarizeTrace> }[] =
    [];

  private applyTrace(spans: TraceSpan[]): void {
    const obs = summarizeTrace(spans, this.budget);
    if (!obs.entry) return;
    this.pendingTraces.push({
      traceId: obs.traceId,
      windowStart: this.spans.routes.windowStart(obs.entry.time),
      obs,
    });
  }

  /**
   * Assembles a span again after a restart: one of a trace that was still open when the previous process
   * stopped, which the bus replays. Nothing else of the span is applied again (its error is counted).
   */
  reassemble(event: TelemetryEvent & { kind: "span" }, now: number, origin: SpanOrigin): void {
    for (const evicted of this.assembler.add(
      { service: event.service, resource: event.attributes, span: event.span },
      now,
      origin,
    )) {
      this.applyTrace(evicted);
    }
  }

  /**
   * Per partition, the lowest bus offset this stage still needs: spans of traces not yet completed.
   * Completed traces are folded before a change set is taken, so only the assembler holds any.
   */
  heldFrom(): Map<number, number> {
    return this.assembler.heldFrom();
  }

  /** Completes the traces that have been quiet long enough (or all, at the end of an offline run). */
  completeTraces(now: number, all = false): { traceId: string; windowStart: number }[] {
    for (const t of all ? this.assembler.drainAll() : this.assembler.drain(now)) this.applyTrace(t);
    return this.pendingTraces.map(({ traceId, windowStart }) => ({ traceId, windowStart }));
  }

  /**
   * Folds the completed traces into the aggregates, except those already applied before a restart
   * (the caller looks them up in the store).
   */
  foldTraces(alreadyApplied: Set<string>): { traceId: string; windowStart: number }[] {
    const applied: { traceId: string; windowStart: number }[] = [];
    for (const t of this.pendingTraces) {
      if (alreadyApplied.has(t.traceId)) continue;
      this.counters.droppedLate += this.spans.apply(t.obs);
      applied.push({ traceId: t.traceId, windowStart: t.windowStart });
    }
    this.pendingTraces = [];
    return applied;
  }

  /**
   * Late counts per service (the windows' clock), once per event: a trace's entry counts, not its edges
   * and example (the same event in other aggregates), whose counts are taken and left out.
   */
  private takeLate(): Map<string, LateCounts> {
    const out = new Map<string, LateCounts>();
    this.spans.edges.takeLate();
    this.spans.examples.takeLate();
    for (const w of [this.capsules.windows, this.spans.routes, this.vitals.windows]) {
      for (const [service, c] of w.takeLate()) {
        const sum = out.get(service) ?? { dropped: 0, corrected: 0 };
        sum.dropped += c.dropped;
        sum.corrected += c.corrected;
        out.set(service, sum);
      }
    }
    return out;
  }

  takeChanges(
    traces: { traceId: string; windowStart: number }[],
    rum: { key: string; windowStart: number }[] = [],
  ): StageChanges {
    const changes: StageChanges = {
      samples: this.samples,
      capsules: this.capsules.windows.takeChanges().map((e) => e.state),
      capsuleEvents: this.capsuleEvents,
      routes: this.spans.routes.takeChanges(),
      edges: this.spans.edges.takeChanges(),
      examples: this.spans.examples.takeChanges(),
      webVitals: this.vitals.windows.takeChanges(),
      traces,
      rum,
      ...(this.fingerprinterChanged
        ? { fingerprinterState: this.fingerprintStage.fingerprinter.toJSON() }
        : {}),
      watermarks: this.watermarks,
      droppedLate: this.counters.droppedLate - this.droppedLateTaken,
      late: this.takeLate(),
    };
    this.droppedLateTaken = this.counters.droppedLate;
    this.samples = [];
    this.capsuleEvents = [];
    this.fingerprinterChanged = false;
    return changes;
  }
}
