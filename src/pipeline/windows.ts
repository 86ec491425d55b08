/**
 * Event-time tumbling windows with a watermark and allowed lateness, keyed by an arbitrary string.
 *
 * A window here holds what THIS process added to it since the last `takeChanges()`, not its total: several
 * pipeline workers may add to one window (spans are partitioned by trace, so one journey's traces reach
 * every worker), so the store adds each contribution to the stored row rather than replacing it. A
 * consumer that stores the contributions together with its bus offset in one transaction gets an
 * exactly-once effect, and a restart needs only the watermarks back, not the windows.
 */
export interface WindowOptions {
  windowMs: number;
  /** How long after a window's end events for it are on time. */
  allowedLatenessMs: number;
  /**
   * How long after a window's end a late event still corrects it (CORRECTION_HORIZON; at least the
   * allowed lateness): the store adds it to the stored window like any other. Later ones are dropped.
   */
  correctionHorizonMs?: number;
}

/** Per clock, since the last takeLate(): events dropped as too late, and late events that corrected a window. */
export interface LateCounts {
  dropped: number;
  corrected: number;
}

export interface WindowEntry<S> {
  key: string;
  windowStart: number;
  state: S;
}

/**
 * Watermarks are kept per clock — the service an event came from — because services' clocks and
 * delivery delays differ: one service running ahead must not make another service's events late.
 */
export type Clock = string;

export type AddOutcome = "applied" | "corrected" | "late";

export class TumblingWindows<S> {
  private readonly changed = new Map<string, WindowEntry<S>>();
  private readonly maxEventTime = new Map<Clock, number>();
  private late = new Map<Clock, LateCounts>();
  droppedLate = 0;

  constructor(
    private readonly options: WindowOptions,
    private readonly init: (key: string, windowStart: number) => S,
  ) {}

  windowStart(time: number): number {
    return Math.floor(time / this.options.windowMs) * this.options.windowMs;
  }

  /** Per clock, the highest event time seen: windows ending before it minus the lateness are closed for good. */
  get watermarks(): ReadonlyMap<Clock, number> {
    return this.maxEventTime;
  }

  watermark(clock: Clock = ""): number {
    return this.maxEventTime.get(clock) ?? Number.NEGATIVE_INFINITY;
  }

  private id(key: string, windowStart: number): string {
    return `${windowStart}\u0000${key}`;
  }

  /** Past its end plus `afterMs` by the clock's watermark. */
  private past(windowStart: number, clock: Clock, afterMs: number): boolean {
    return windowStart + this.options.windowMs + afterMs <= this.watermark(clock);
  }

  private lateOf(clock: Clock): LateCounts {
    let counts = this.late.get(clock);
    if (!counts) {
      counts = { dropped: 0, corrected: 0 };
      this.late.set(clock, counts);
    }
    return counts;
  }

  /** Late events per clock since the last call. */
  takeLate(): Map<Clock, LateCounts> {
    const out = this.late;
    this.late = new Map();
    return out;
  }

  /**
   * Restores the watermark persisted before a restart, so an event for a window that closed before the
   * restart is still dropped as late instead of changing a window that analysis already treats as final.
   */
  restoreWatermark(time: number, clock: Clock = ""): void {
    if (time > this.watermark(clock)) this.maxEventTime.set(clock, time);
  }

  add(key: string, time: number, apply: (state: S) => void, clock: Clock = ""): AddOutcome {
    const windowStart = this.windowStart(time);
    const { allowedLatenessMs, correctionHorizonMs = 0 } = this.options;
    if (this.past(windowStart, clock, Math.max(allowedLatenessMs, correctionHorizonMs))) {
      this.droppedLate++;
      this.lateOf(clock).dropped++;
      return "late";
    }
    const outcome: AddOutcome = this.past(windowStart, clock, allowedLatenessMs) ? "corrected" : "applied";
    if (outcome === "corrected") this.lateOf(clock).corrected++;
    const id = this.id(key, windowStart);
    let entry = this.changed.get(id);
    if (!entry) {
      entry = { key, windowStart, state: this.init(key, windowStart) };
      this.changed.set(id, entry);
    }
    apply(entry.state);
    if (time > this.watermark(clock)) this.maxEventTime.set(clock, time);
    return outcome;
  }

  /** What was added to each window since the last call; the windows start again from empty. */
  takeChanges(): WindowEntry<S>[] {
    const out = [...this.changed.values()];
    this.changed.clear();
    return out;
  }

  get size(): number {
    return this.changed.size;
  }
}
