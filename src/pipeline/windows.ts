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
  /** How long after a window's end events for it are still applied. */
  allowedLatenessMs: number;
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

export type AddOutcome = "applied" | "late";

export class TumblingWindows<S> {
  private readonly changed = new Map<string, WindowEntry<S>>();
  private readonly maxEventTime = new Map<Clock, number>();
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

  private closed(windowStart: number, clock: Clock): boolean {
    return windowStart + this.options.windowMs + this.options.allowedLatenessMs <= this.watermark(clock);
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
    if (this.closed(windowStart, clock)) {
      this.droppedLate++;
      return "late";
    }
    const id = this.id(key, windowStart);
    let entry = this.changed.get(id);
    if (!entry) {
      entry = { key, windowStart, state: this.init(key, windowStart) };
      this.changed.set(id, entry);
    }
    apply(entry.state);
    if (time > this.watermark(clock)) this.maxEventTime.set(clock, time);
    return "applied";
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
