/**
 * Event-time tumbling windows with a watermark and allowed lateness, keyed by an arbitrary string.
 *
 * The state of a window is ABSOLUTE (the full aggregate so far), so writing it is an upsert that replaces
 * the stored row: re-applying a stored state is harmless, and a consumer that stores window states together
 * with its bus offset in one transaction gets an exactly-once effect. After a restart, windows that are
 * still open must be seeded from the store before new events are applied, or their counts would restart
 * from zero; `missing()` names them.
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
  private readonly open = new Map<string, WindowEntry<S> & { dirty: boolean; clock: Clock }>();
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

  /** Windows the given events would touch that are neither open here nor closed: load these from the store. */
  missing(
    events: Iterable<{ key: string; time: number; clock?: Clock }>,
  ): { key: string; windowStart: number }[] {
    const out = new Map<string, { key: string; windowStart: number }>();
    for (const { key, time, clock = "" } of events) {
      const windowStart = this.windowStart(time);
      const id = this.id(key, windowStart);
      if (!this.open.has(id) && !this.closed(windowStart, clock)) out.set(id, { key, windowStart });
    }
    return [...out.values()];
  }

  /**
   * Restores the watermark persisted before a restart, so an event for a window that closed before the
   * restart is still dropped as late instead of starting that window again from zero.
   */
  restoreWatermark(time: number, clock: Clock = ""): void {
    if (time > this.watermark(clock)) this.maxEventTime.set(clock, time);
  }

  entries(): WindowEntry<S>[] {
    return [...this.open.values()].map(({ key, windowStart, state }) => ({ key, windowStart, state }));
  }

  /** Restores a window's stored state (after a restart); ignored when the window is already open. */
  seed(key: string, windowStart: number, state: S, clock: Clock = ""): void {
    const id = this.id(key, windowStart);
    if (!this.open.has(id)) this.open.set(id, { key, windowStart, state, dirty: false, clock });
  }

  add(key: string, time: number, apply: (state: S) => void, clock: Clock = ""): AddOutcome {
    const windowStart = this.windowStart(time);
    if (this.closed(windowStart, clock)) {
      this.droppedLate++;
      return "late";
    }
    const id = this.id(key, windowStart);
    let entry = this.open.get(id);
    if (!entry) {
      entry = { key, windowStart, state: this.init(key, windowStart), dirty: false, clock };
      this.open.set(id, entry);
    }
    apply(entry.state);
    entry.dirty = true;
    if (time > this.watermark(clock)) this.maxEventTime.set(clock, time);
    return "applied";
  }

  /** Windows changed since the last call, with their absolute state; they are marked clean. */
  takeDirty(): WindowEntry<S>[] {
    const out: WindowEntry<S>[] = [];
    for (const entry of this.open.values()) {
      if (!entry.dirty) continue;
      entry.dirty = false;
      out.push({ key: entry.key, windowStart: entry.windowStart, state: entry.state });
    }
    return out;
  }

  /** Drops closed, clean windows from memory; returns how many were dropped. */
  evictClosed(): number {
    let n = 0;
    for (const [id, entry] of this.open) {
      if (!entry.dirty && this.closed(entry.windowStart, entry.clock)) {
        this.open.delete(id);
        n++;
      }
    }
    return n;
  }

  get size(): number {
    return this.open.size;
  }
}
