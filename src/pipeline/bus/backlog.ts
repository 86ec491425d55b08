import type { Logger } from "pino";
import { counter, gauge } from "../../observability/metrics.js";

/**
 * How far a consumer group is behind on a topic (the topic's end offsets minus the group's committed
 * offsets, summed over partitions), measured off the request path: one measurement at a time, the next
 * `refreshMs` after the last one settled, so receivers read a number instead of asking the broker per
 * request. The receivers refuse new data while the backlog is over the bound: acknowledging what the
 * workers cannot store would only make the data arrive in the store hours late.
 *
 * A measurement that fails or does not answer within `timeoutMs` (the broker away, the group's offsets not
 * readable) leaves the last one in
 * force for `staleMs`; after that the backlog is unknown and does not hold ingest back, because refusing
 * on a guess could stop ingest for as long as the admin calls fail. Unknown is not silent: the log says
 * so (at the first failure, then every minute while they last, and when a measurement succeeds again) and
 * the gauge has no sample, which `absent()` alerts on. A broker that is really gone refuses the
 * receivers' publishes by itself.
 */

export interface BacklogOptions {
  topic: string;
  group: string;
  /** Messages behind past which `over()` names the backlog. */
  max: number;
  /** One measurement: the backlog in messages. */
  measure: () => Promise<number>;
  refreshMs?: number;
  staleMs?: number;
  /** A measurement not settled by then counts as failed (the admin client's own timeouts are far longer). */
  timeoutMs?: number;
  logger?: Pick<Logger, "error" | "info">;
  now?: () => number;
}

const BACKLOG = "slo_scout_pipeline_backlog_messages";
const REFUSALS = "slo_scout_pipeline_backlog_refusals_total";
/** A failing measurement is logged again at most this often. */
const RELOG_MS = 60_000;

export class BacklogMonitor {
  private last: { value: number; at: number } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private failingSince: number | undefined;
  private loggedAt = 0;
  private readonly refreshMs: number;
  private readonly staleMs: number;
  private readonly timeoutMs: number;
  private readonly now: () => number;
  private readonly gauge = gauge(
    BACKLOG,
    "Messages on a topic its consumer group has not committed yet (end offsets minus committed offsets), as the receivers last measured it; no sample while it cannot be measured",
    ["topic", "group"],
  );
  private readonly refusals = counter(
    REFUSALS,
    "Ingest requests refused (HTTP 503, gRPC UNAVAILABLE) because the pipeline's backlog was over INGEST_MAX_BACKLOG",
    ["topic", "group"],
  );

  constructor(private readonly options: BacklogOptions) {
    this.refreshMs = options.refreshMs ?? 1000;
    this.staleMs = options.staleMs ?? 10_000;
    this.timeoutMs = options.timeoutMs ?? 5_000;
    this.now = options.now ?? Date.now;
  }

  /** Starts measuring (once); the timer does not keep the process alive. */
  start(): void {
    if (this.running) return;
    this.running = true;
    void this.refresh();
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The last measurement while it is fresh, else undefined. */
  current(): number | undefined {
    if (!this.last || this.now() - this.last.at > this.staleMs) return undefined;
    return this.last.value;
  }

  /** Why ingest should be refused (the backlog is over the bound), or undefined; counts each refusal. */
  over(): string | undefined {
    const backlog = this.current();
    if (backlog === undefined || backlog <= this.options.max) return undefined;
    const { topic, group, max } = this.options;
    this.refusals.inc({ topic, group });
    return `the pipeline is ${backlog} messages behind on ${topic} (INGEST_MAX_BACKLOG ${max}): the workers (consumer group ${group}) are not keeping up`;
  }

  /** One measurement, then the next one scheduled. */
  async refresh(): Promise<void> {
    const { topic, group, logger } = this.options;
    const at = this.now();
    try {
      let timer: NodeJS.Timeout | undefined;
      const value = await Promise.race([
        this.options.measure(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer from Kafka in ${this.timeoutMs / 1000} s`)),
            this.timeoutMs,
          );
        }),
      ]).finally(() => clearTimeout(timer));
      this.last = { value, at };
      this.gauge.set({ topic, group }, value);
      if (this.failingSince !== undefined) {
        logger?.info({ topic, group, backlog: value }, "pipeline backlog: measured again");
      }
      this.failingSince = undefined;
    } catch (err) {
      this.failingSince ??= at;
      if (this.current() === undefined) this.gauge.remove({ topic, group });
      if (this.loggedAt < this.failingSince || at - this.loggedAt >= RELOG_MS) {
        this.loggedAt = at;
        logger?.error(
          { err, topic, group, failingForMs: at - this.failingSince },
          `pipeline backlog: cannot measure it; the last measurement holds for ${this.staleMs / 1000} s, then INGEST_MAX_BACKLOG is not enforced until a measurement succeeds`,
        );
      }
    }
    if (this.running) {
      this.timer = setTimeout(() => void this.refresh(), this.refreshMs);
      this.timer.unref();
    }
  }
}
