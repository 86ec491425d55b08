import type { Logger } from "pino";
import type { Capsule } from "../core/capsule.js";
import type { TelemetryEvent } from "../core/telemetry.js";
import { counter, gauge } from "../observability/metrics.js";
import { putJsonlGz } from "../store/blobs/jsonl.js";
import { samplesKey } from "../store/blobs/keys.js";
import type { BlobStore, Embedder, Sql, VectorStore } from "../store/ports.js";
import { capsuleId, listCapsules, setCapsuleBlobRef } from "../store/repos/capsules.js";
import { addLateEvents } from "../store/repos/late-events.js";
import { insertSamples } from "../store/repos/metric-samples.js";
import { touchServices } from "../store/repos/services.js";
import {
  commitOffsets,
  loadFingerprintState,
  loadOffsets,
  loadWatermarks,
  saveFingerprintState,
  saveWatermarks,
} from "../store/repos/stream-state.js";
import type { Bus, BusBatch, ConsumedMessage, Subscription } from "./bus/bus.js";
import { BusSaturatedError, TOPICS } from "./bus/bus.js";
import type { FingerprinterState } from "./fingerprint/fingerprinter.js";
import type { Redactor } from "./redact.js";
import { type StageChanges, TelemetryStage } from "./stage.js";
import { addWindowChanges, lockWindows } from "./window-writes.js";
import type { WindowOptions } from "./windows.js";

/**
 * Runs the stream stage on the bus: consumes `raw-telemetry`, keeps hourly windows in memory and, per
 * batch, writes every changed window together with the batch's offset in ONE transaction. Messages at or
 * after the stored offset are the only ones applied (it is read again for every batch), and the
 * transaction adds nothing of messages stored meanwhile, so a redelivery — after a crash between that
 * transaction and the bus's own commit, or to another worker after a rebalance — changes no count: the
 * effect is exactly once. Samples blobs, embeddings and
 * `capsule-events` follow the transaction and are idempotent (absolute content, keyed ids).
 *
 * Spans are the exception: a trace is assembled across batches in memory, so spans of a trace still open
 * at a crash are lost (the aggregates are a sample of traces anyway); a trace is never counted twice
 * (`applied_traces`). Browser events are counted once even when they reach the bus again at new offsets
 * (a client's retry, the same file ingested twice): `applied_rum` holds the identity of each.
 */

type Signal = "span" | "metric" | "log" | "rum";
/** The offsets of a topic/partition whose messages a change set holds: `from` up to before `next`. */
type Offset = { key: string; partition: number; from: number; next: number };
type Collected = { changes: StageChanges; offsets: Offset[]; traces: number };

export const PIPELINE_GROUP = "pipeline";
const STATE_KEY = "pipeline";

export interface PipelineDeps {
  bus: Bus;
  sql: Sql;
  blobs: BlobStore;
  vectors?: VectorStore;
  embedder?: Embedder;
  redact: Redactor;
  logger?: Pick<Logger, "info" | "warn" | "error" | "debug">;
  windowMs?: number;
  allowedLatenessMs: number;
  /** How long after its end a closed window still takes late events (CORRECTION_HORIZON). */
  correctionHorizonMs?: number;
  /** Processing-time clock (trace assembly, flush pacing). */
  now?: () => number;
  random?: () => number;
  /** Samples blobs and embeddings of a service-window are refreshed at most this often. */
  refreshMs?: number;
  embedBatch?: number;
  group?: string;
  /** Message ids remembered per partition to drop a message the producer wrote twice (see `Run.recentIds`). */
  recentIds?: number;
}

/** What a drain wrote: traces it completed (the trace assembler's open ones among them) and window rows. */
export interface Drained {
  traces: number;
  windows: number;
}

export interface Pipeline {
  /** Completes every open trace and writes everything still pending (end of an offline ingest). */
  drain(): Promise<Drained>;
  /**
   * Drains (so no acknowledged record stays only in memory), then ends the subscription and the timer.
   * A drain the store refuses is logged and the stop goes on: what it held is lost unless the spool
   * replays it at the next start.
   */
  stop(): Promise<void>;
  readonly counters: TelemetryStage["counters"];
}

const eventsTotal = counter("slo_scout_pipeline_events_total", "Events the stream stage processed", ["kind"]);
const droppedLate = counter(
  "slo_scout_pipeline_dropped_late_total",
  "Events dropped because they arrived more than CORRECTION_HORIZON after their window closed",
  ["service"],
);
const lateCorrections = counter(
  "slo_scout_pipeline_late_corrections_total",
  "Events later than ALLOWED_LATENESS but within CORRECTION_HORIZON, added to their closed window",
  ["service"],
);
const announcementsDropped = counter(
  "slo_scout_pipeline_announcements_dropped_total",
  "capsule-events not published because the topic was full (no consumer keeping up)",
);
const redelivered = counter(
  "slo_scout_pipeline_redelivered_total",
  "Messages skipped because the stage had already applied them",
);
const duplicates = counter(
  "slo_scout_pipeline_duplicates_total",
  "Messages skipped because the bus held them twice (a producer resent a request, or a client retried one, that was written)",
);
const watermarkGauge = gauge(
  "slo_scout_pipeline_watermark_seconds",
  "Event-time watermark of the stream stage per service",
  ["service"],
);

/** Where a topic/partition stands: the next offset the stored windows cover, and the next the stage covers. */
interface Position {
  partition: number;
  stored: number;
  applied: number;
  /**
   * On a bus that replays what its consumer has not released (the spooled in-process bus): the stored
   * offset this process resumed from, below which the spans it is given again are assembled once more —
   * those of traces a previous process held open when it was killed — and the last one it re-assembled.
   */
  reassembleBelow: number;
  reassembled: number;
}

/** A change set taken from the stage that the store has not taken yet. */
interface Unwritten {
  changes: StageChanges;
  offsets: Offset[];
  force: boolean;
}

/** What the store already holds of a change set (see storedParts). */
interface StoredParts {
  messages: boolean;
  traces: boolean;
  stored: Map<number, number>;
}

/** What a written change set gives back: the capsules as stored now and, when overtaken, the stored offsets. */
interface Written {
  capsules: Capsule[];
  overtaken?: Map<number, number>;
  /** Metric series ids the transaction offered to the store (stored once it commits). */
  series: string[];
}

/**
 * A partition's last `limit` message ids with their offsets, the oldest forgotten first. The ids sit in a
 * ring beside the map: forgetting the oldest by deleting a Map's first key costs a scan over every key
 * deleted before it (V8 leaves holes until it rehashes), which at 100,000 ids made each message cost
 * about 100 µs and a busy worker fall behind for good.
 */
interface RecentIds {
  offsets: Map<string, number>;
  ring: string[];
  /** Where the next id goes once the ring is full: the oldest one's slot. */
  next: number;
}

/** Everything a running pipeline keeps between batches, with its settings (defaults applied). */
interface Run {
  deps: PipelineDeps;
  now: () => number;
  group: string;
  random: () => number;
  refreshMs: number;
  embedBatch: number;
  recentIdsLimit: number;
  stage: TelemetryStage;
  /**
   * Per topic/partition: the next offset the stored windows cover, and the next the in-memory stage
   * covers (ahead of it while a change set waits for the store). Offsets stored for an in-process bus
   * belong to a previous process's bus and are ignored.
   */
  positions: Map<string, Position>;
  /**
   * Change sets taken from the stage that the store has not taken yet (it is down), oldest first. They
   * are written before the stage applies anything new, so a change set never holds effects newer than
   * its offsets; a failed transaction stored nothing, so writing the set again adds it once.
   */
  unwritten: Unwritten[];
  /**
   * Per topic/partition: the ids of the messages this worker applied (their effect is stored, or held in
   * the stage or in `unwritten` until it is), each with its offset, oldest first. kafkajs's producer
   * resends a whole request when one of its partitions failed, so a message can be on the topic twice, at
   * two offsets, which the offsets cannot tell apart: the second has an id applied at another offset and is
   * dropped. A resend follows its request within the producer's retry budget (about a second), so it lands
   * in the same or one of the next few batches. A client's retry of a request the receivers refused after
   * part of it was written carries the same ids too (derived from the request's content) and follows
   * after its Retry-After and backoff, seconds later; the last `recentIds` ids of a partition (by default
   * 100,000, some 8 MB) are that many messages back (README, "Kafka", gives the seconds at the soak's rates). An id counts as applied where its effect
   * is not lost: a change set the store refused is kept and written again; one left out because another
   * worker stored its offsets first was applied there, and what lies past the stored offset comes again
   * at the same offsets, which an entry does not drop. It lives with the worker, not with a consumer
   * generation, so a consumer that rejoins its group still knows them; a worker that starts (or takes a
   * partition over) knows none of the ids before it, so a resend straddling that is still counted twice.
   */
  recentIds: Map<string, RecentIds>;
  /** Per service-window (`service\0windowStart`): when its samples blob is due for a refresh. */
  blobDue: Map<string, number>;
  /** Capsule ids whose template is embedded already. */
  embedded: Set<string>;
  /** Metric series this worker's committed transactions stored (see SeriesMemo); emptied past a bound. */
  storedSeries: Set<string>;
  /** Per service: when its last late-drop warning was logged. */
  lateWarned: Map<string, number>;
  /** The work queue: batches, timer ticks and drains run one after another on it. */
  chain: Promise<void>;
}

/**
 * The phases: restore the stage from the store, subscribe to `raw-telemetry`, then per batch (handleBatch)
 * write what waits, resume from the stored offset, apply the new messages and settle the change set
 * (write it, announce it, refresh samples blobs and embeddings); a timer completes traces between
 * batches; drain writes everything, stop ends the subscription and the timer.
 */
export async function startPipeline(deps: PipelineDeps): Promise<Pipeline> {
  const now = deps.now ?? Date.now;
  const windowMs = deps.windowMs ?? 3_600_000;
  const random = deps.random ?? Math.random;
  const stage = await restoreStage(
    deps,
    {
      windowMs,
      allowedLatenessMs: deps.allowedLatenessMs,
      ...(deps.correctionHorizonMs !== undefined ? { correctionHorizonMs: deps.correctionHorizonMs } : {}),
    },
    random,
  );
  const run: Run = {
    deps,
    now,
    group: deps.group ?? PIPELINE_GROUP,
    random,
    refreshMs: deps.refreshMs ?? 5_000,
    embedBatch: deps.embedBatch ?? 100,
    recentIdsLimit: deps.recentIds ?? 100_000,
    stage,
    positions: new Map(),
    unwritten: [],
    recentIds: new Map(),
    blobDue: new Map(),
    embedded: new Set(),
    storedSeries: new Set(),
    lateWarned: new Map(),
    chain: Promise.resolve(),
  };
  const subscription = await subscribe(run);
  let timer: NodeJS.Timeout | undefined = startTraceTimer(run);

  return {
    get counters() {
      return run.stage.counters;
    },
    drain() {
      return drain(run);
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      const started = run.now();
      try {
        const drained = await drain(run);
        deps.logger?.info(
          { ...drained, ms: run.now() - started },
          `pipeline: stopped; drained ${drained.traces} open traces and ${drained.windows} window rows into the store`,
        );
      } catch (err) {
        deps.logger?.error({ err }, "pipeline: draining at stop failed; what it held was not stored");
      }
      await subscription.stop();
      await run.chain;
    },
  };
}

// --- Restore -------------------------------------------------------------------------------------------

async function restoreStage(
  deps: PipelineDeps,
  windows: WindowOptions,
  random: () => number,
): Promise<TelemetryStage> {
  const fp = await loadFingerprintState<FingerprinterState>(deps.sql, STATE_KEY);
  const s = new TelemetryStage({ windows, redact: deps.redact, random }, fp);
  const watermarks = await loadWatermarks(deps.sql, STATE_KEY);
  // Windows hold only what is added after this point (the store adds it), so the watermarks are all the
  // state a restart needs: they keep events for windows closed before it from counting.
  for (const [service, wm] of watermarks) s.restoreWatermark(service, wm);
  return s;
}

// --- Subscribe, timer, drain ---------------------------------------------------------------------------

/** Runs `task` after everything queued before it; the queue goes on when it fails, the caller sees the error. */
function serialized(run: Run, task: () => Promise<void>): Promise<void> {
  const next = run.chain.then(task);
  run.chain = next.catch(() => {});
  return next;
}

function subscribe(run: Run): Promise<Subscription> {
  return run.deps.bus.subscribe<TelemetryEvent>(
    TOPICS.rawTelemetry,
    run.group,
    // One batch at a time across partitions: the windows are shared state.
    (batch) => serialized(run, () => handleBatch(run, batch)),
  );
}

/** Completes traces (and retries what the store refused) between batches. */
function startTraceTimer(run: Run): NodeJS.Timeout {
  const timer = setInterval(() => {
    run.chain = run.chain
      .then(async () => {
        await writeUnwritten(run);
        // Between batches only completed traces, or a batch whose collect failed, can change anything.
        const collected = await collect(run, false);
        if (collected.traces > 0 || collected.offsets.length > 0) await settle(run, collected, false);
      })
      .catch((err) => run.deps.logger?.error({ err }, "pipeline: completing traces failed"));
  }, 2_000);
  timer.unref();
  return timer;
}

/** Completes every open trace and writes everything still pending, after what the bus still holds. */
async function drain(run: Run): Promise<Drained> {
  await run.deps.bus.flush();
  let drained: Drained = { traces: 0, windows: 0 };
  await serialized(run, async () => {
    await writeUnwritten(run);
    const collected = await collect(run, true);
    const c = collected.changes;
    drained = {
      traces: collected.traces,
      windows: c.capsules.length + c.routes.length + c.edges.length + c.webVitals.length,
    };
    await settle(run, collected, true);
  });
  return drained;
}

// --- Handle a batch ------------------------------------------------------------------------------------

async function handleBatch(run: Run, batch: BusBatch<TelemetryEvent>): Promise<void> {
  await writeUnwritten(run);
  const key = `${batch.topic}/${batch.partition}`;
  const position = positionOf(run, key, batch.partition);
  await resumeFromStored(run, position, batch.partition);
  const last = applyMessages(run, key, position, batch.messages);
  position.applied = Math.max(position.applied, last + 1);
  if (last < position.stored) return;
  await settle(run, await collect(run, false), false);
}

function positionOf(run: Run, key: string, partition: number): Position {
  let position = run.positions.get(key);
  if (!position) {
    position = { partition, stored: 0, applied: 0, reassembleBelow: 0, reassembled: -1 };
    run.positions.set(key, position);
  }
  return position;
}

/**
 * The bus resumes at its own committed offset, which lags the stored one when its commit failed after
 * the window write (a consumer that crashed and rejoined) or when another worker held the partition
 * in between (a rebalance): the stored offset, read again for every batch, is where applying resumes.
 * Messages this stage holds but has not stored are left alone; the write finds out if they were
 * stored meanwhile.
 */
async function resumeFromStored(run: Run, position: Position, partition: number): Promise<void> {
  if (run.deps.bus.durable && position.applied === position.stored) {
    const stored = (await storedOffsets(run.deps.sql, run.group)).get(partition) ?? 0;
    if (stored > position.stored) position.stored = position.applied = position.reassembleBelow = stored;
  }
}

/**
 * Applies the batch's messages the stage has not applied yet to the stage; returns the last offset of the
 * batch (-1 when empty). A redelivery after a failed write holds messages the stage has applied but the
 * store lacks: they are not applied again, and the change set taken next carries their offsets.
 */
function applyMessages(
  run: Run,
  key: string,
  position: Position,
  messages: ConsumedMessage<TelemetryEvent>[],
): number {
  let last = -1;
  let ids = run.recentIds.get(key);
  for (const m of messages) {
    const offset = Number(m.offset);
    last = Math.max(last, offset);
    if (offset < position.applied) {
      if (reassembles(run, position, m, offset)) {
        position.reassembled = offset;
        run.stage.reassemble(m.value as TelemetryEvent & { kind: "span" }, run.now(), {
          partition: position.partition,
          offset,
        });
      } else redelivered.inc();
      continue;
    }
    if (m.id !== undefined) {
      if (!ids) {
        ids = { offsets: new Map(), ring: [], next: 0 };
        run.recentIds.set(key, ids);
      }
      if (resentByProducer(ids, m.id, offset, run.recentIdsLimit)) {
        duplicates.inc();
        continue;
      }
    }
    eventsTotal.inc({ kind: m.value.kind });
    run.stage.apply(m.value, run.now(), { partition: position.partition, offset });
  }
  return last;
}

/** A span below the offset this process resumed from, on a bus that replays until released, seen once. */
function reassembles(
  run: Run,
  position: Position,
  m: ConsumedMessage<TelemetryEvent>,
  offset: number,
): boolean {
  return (
    run.deps.bus.release !== undefined &&
    m.value.kind === "span" &&
    offset < position.reassembleBelow &&
    offset > position.reassembled
  );
}

/**
 * True when the message id was applied at another offset (the producer wrote it twice, see
 * `Run.recentIds`); otherwise the id is remembered at this offset, the oldest forgotten past `limit`.
 */
function resentByProducer(ids: RecentIds, id: string, offset: number, limit: number): boolean {
  const seen = ids.offsets.get(id);
  if (seen !== undefined && seen !== offset) return true;
  if (seen === undefined) {
    if (ids.ring.length < limit) ids.ring.push(id);
    else {
      ids.offsets.delete(ids.ring[ids.next]!);
      ids.ring[ids.next] = id;
      ids.next = (ids.next + 1) % limit;
    }
    ids.offsets.set(id, offset);
  }
  return false;
}

/**
 * Folds the traces that are due (all, at the end of a run) into the aggregates and takes every change,
 * with the offsets it covers. A failed trace lookup leaves the traces and changes in the stage.
 */
async function collect(run: Run, allTraces: boolean): Promise<Collected> {
  const pending = run.stage.completeTraces(run.now(), allTraces);
  const applied = await appliedTraces(
    run.deps.sql,
    pending.map((t) => t.traceId),
  );
  const traces = run.stage.foldTraces(applied);
  const rum = run.stage.foldRum(await appliedRum(run.deps.sql, run.stage.pendingRumKeys()));
  const offsets = unstoredOffsets(run);
  return { changes: run.stage.takeChanges(traces, rum), offsets, traces: pending.length };
}

/** The offsets applied to the stage but not stored, per topic/partition. */
function unstoredOffsets(run: Run): Offset[] {
  const offsets: Offset[] = [];
  for (const [key, p] of run.positions) {
    if (p.applied > p.stored) offsets.push({ key, partition: p.partition, from: p.stored, next: p.applied });
  }
  return offsets;
}

async function appliedTraces(sql: Sql, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const { rows } = await sql.query<{ trace_id: string }>(
    "SELECT trace_id FROM applied_traces WHERE trace_id = ANY($1::text[])",
    [ids],
  );
  return new Set(rows.map((r) => r.trace_id));
}

/**
 * The browser events among `keys` applied before. Only this worker adds a service's browser events (the
 * bus keys them by service) and no change set waits unwritten while it collects, so what the store holds
 * now is all that was applied.
 */
async function appliedRum(sql: Sql, keys: string[]): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const { rows } = await sql.query<{ event_key: string }>(
    "SELECT event_key FROM applied_rum WHERE event_key = ANY($1::text[])",
    [keys],
  );
  return new Set(rows.map((r) => r.event_key));
}

// --- Settle: write the change sets, then announce and refresh ------------------------------------------

async function settle(run: Run, collected: Collected, force: boolean): Promise<void> {
  run.unwritten.push({ changes: collected.changes, offsets: collected.offsets, force });
  await writeUnwritten(run);
}

/**
 * Stores the change sets waiting for the store, in order; throws while the store refuses (the bus then
 * redelivers the batch, or the timer tries again), keeping them for the next attempt.
 */
async function writeUnwritten(run: Run): Promise<void> {
  while (run.unwritten.length > 0) {
    const { changes, offsets, force } = run.unwritten[0]!;
    const { capsules, overtaken } = await writeChangeSet(run, changes, offsets);
    run.unwritten.shift();
    if (overtaken) {
      if (resumeFromOvertaken(run, offsets, overtaken)) {
        throw new Error("another worker stored part of this batch first; it is consumed again");
      }
      continue;
    }
    for (const o of offsets) run.positions.get(o.key)!.stored = o.next;
    release(run);
    countLate(run, changes);
    await announce(run.deps.bus, changes);
    await refresh(run, capsules, force);
  }
}

/** A warning per service at most this often, however many events it drops. */
const LATE_WARNING_EVERY_MS = 60_000;

/** The metrics and the (rate-limited) warning of a stored change set's late events. */
function countLate(run: Run, changes: StageChanges): void {
  for (const [service, c] of changes.late) {
    if (c.corrected > 0) lateCorrections.inc({ service }, c.corrected);
    if (c.dropped === 0) continue;
    droppedLate.inc({ service }, c.dropped);
    const t = run.now();
    if ((run.lateWarned.get(service) ?? Number.NEGATIVE_INFINITY) + LATE_WARNING_EVERY_MS > t) continue;
    run.lateWarned.set(service, t);
    run.deps.logger?.warn(
      { service, dropped: c.dropped },
      `pipeline: dropped ${c.dropped} event(s) of ${service} that arrived more than the correction horizon after their window closed (CORRECTION_HORIZON; slo-scout ingest imports older history)`,
    );
  }
}

/**
 * Tells a bus that keeps messages until released (the spooled in-process bus) what it may forget: per
 * partition, everything below the stored offset except the spans of traces still open.
 */
function release(run: Run): void {
  const bus = run.deps.bus;
  if (!bus.release) return;
  const held = run.stage.heldFrom();
  for (const p of run.positions.values()) {
    bus.release(TOPICS.rawTelemetry, p.partition, Math.min(p.stored, held.get(p.partition) ?? p.stored));
  }
}

/**
 * A change set's messages were left out: this worker continues from the stored offsets, and a message
 * after them that only this change set held must come again, so the batch is refused (redelivered).
 * Returns whether such a message exists.
 */
function resumeFromOvertaken(run: Run, offsets: Offset[], overtaken: Map<number, number>): boolean {
  let missing = false;
  for (const o of offsets) {
    const next = overtaken.get(o.partition) ?? 0;
    const was = run.positions.get(o.key);
    run.positions.set(o.key, {
      partition: o.partition,
      stored: next,
      applied: next,
      reassembleBelow: was?.reassembleBelow ?? 0,
      reassembled: was?.reassembled ?? -1,
    });
    missing ||= next < o.next;
    redelivered.inc(o.next - o.from);
  }
  return missing;
}

// --- Write a change set --------------------------------------------------------------------------------

/**
 * Adds the change set to the stored windows with its offsets, leaving out what the store holds already.
 * Returns the capsules as stored now and, when its messages were left out, the stored offsets.
 */
async function writeChangeSet(run: Run, changes: StageChanges, offsets: Offset[]): Promise<Written> {
  const written = await run.deps.sql.transaction((tx) => addChangeSet(run, tx, changes, offsets));
  if (run.storedSeries.size + written.series.length > STORED_SERIES_LIMIT) run.storedSeries.clear();
  for (const id of written.series) run.storedSeries.add(id);
  for (const [service, wm] of changes.watermarks) watermarkGauge.set({ service }, wm / 1000);
  return written;
}

/** Metric series ids remembered as stored: some 100 bytes each, and a forgotten one is only offered again. */
const STORED_SERIES_LIMIT = 200_000;

/** The transaction of writeChangeSet: under the window lock, so its read-add-writes never interleave. */
async function addChangeSet(run: Run, tx: Sql, changes: StageChanges, offsets: Offset[]): Promise<Written> {
  await lockWindows(tx);
  const skip: StoredParts = run.deps.bus.durable
    ? await storedParts(tx, run.group, changes, offsets)
    : { messages: false, traces: false, stored: new Map<number, number>() };
  const series = { known: run.storedSeries, offered: [] as string[] };
  if (!skip.messages) await insertSamples(tx, changes.samples, series);
  const capsules = await addWindowChanges(
    tx,
    {
      ...changes,
      ...(skip.messages ? { capsules: [], webVitals: [] } : {}),
      ...(skip.traces ? { routes: [], edges: [], examples: [] } : {}),
    },
    run.random,
  );
  if (changes.traces.length > 0 && !skip.traces) {
    await tx.query(
      `INSERT INTO applied_traces (trace_id, window_start)
       SELECT t, w FROM unnest($1::text[], $2::bigint[]) AS x(t, w) ON CONFLICT DO NOTHING`,
      [changes.traces.map((t) => t.traceId), changes.traces.map((t) => t.windowStart)],
    );
  }
  if (changes.rum.length > 0 && !skip.messages) {
    await tx.query(
      `INSERT INTO applied_rum (event_key, window_start)
       SELECT k, w FROM unnest($1::text[], $2::bigint[]) AS x(k, w) ON CONFLICT DO NOTHING`,
      [changes.rum.map((r) => r.key), changes.rum.map((r) => r.windowStart)],
    );
  }
  await touchServices(tx, servicesSeen(changes, skip));
  if (!skip.messages) await addLateEvents(tx, changes.late);
  if (changes.fingerprinterState) await saveFingerprintState(tx, STATE_KEY, changes.fingerprinterState);
  await saveWatermarks(tx, STATE_KEY, changes.watermarks);
  if (skip.messages) return { capsules, overtaken: skip.stored, series: series.offered };
  await commitOffsets(
    tx,
    run.group,
    offsets.map((o) => ({ topic: TOPICS.rawTelemetry, partition: o.partition, nextOffset: o.next })),
  );
  return { capsules, series: series.offered };
}

/** The next offset stored per partition of `raw-telemetry` for this group. */
async function storedOffsets(sql: Sql, group: string): Promise<Map<number, number>> {
  return new Map(
    (await loadOffsets(sql, group, TOPICS.rawTelemetry)).map((o) => [o.partition, o.nextOffset]),
  );
}

/**
 * The parts of a change set that are in the store already, decided under the window lock so no other
 * writer can change the answer before this transaction commits. Messages: when the stored offset of any
 * of its partitions is past `from`, some of its messages were added before — by this change set, whose
 * commit succeeded although the caller saw an error (the connection dropped during COMMIT), or by
 * another worker that consumed them after a rebalance — and as the contributions of its messages are
 * summed up, none of them may be added. Traces: likewise when any of its traces is in `applied_traces`
 * (another worker assembled it from the same redelivered spans); the set's other traces are lost with it,
 * which the trace sample tolerates, rather than one counted twice.
 */
async function storedParts(
  tx: Sql,
  group: string,
  changes: StageChanges,
  offsets: Offset[],
): Promise<StoredParts> {
  const stored = await storedOffsets(tx, group);
  const ids = changes.traces.map((t) => t.traceId);
  const traces =
    ids.length > 0 &&
    (await tx.query("SELECT 1 FROM applied_traces WHERE trace_id = ANY($1::text[]) LIMIT 1", [ids])).rows
      .length > 0;
  return { messages: offsets.some((o) => (stored.get(o.partition) ?? 0) > o.from), traces, stored };
}

/** The services the stored part of a change set shows, with their signals and first and last times. */
function servicesSeen(
  changes: StageChanges,
  skip: StoredParts,
): { name: string; first: number; last: number; signals: Signal[] }[] {
  const services = new Map<string, { signals: Set<Signal>; first: number; last: number }>();
  const mark = (service: string, signal: Signal, first: number, last = first) => {
    const seen = services.get(service) ?? { signals: new Set<Signal>(), first, last };
    seen.signals.add(signal);
    seen.first = Math.min(seen.first, first);
    seen.last = Math.max(seen.last, last);
    services.set(service, seen);
  };
  if (!skip.messages) {
    for (const c of changes.capsules) mark(c.service, "log", c.firstSeen, c.lastSeen);
    for (const v of changes.webVitals) mark(v.state.service, "rum", v.windowStart);
    for (const m of changes.samples) {
      const service = m.labels.service ?? m.labels.job;
      if (service) mark(service, "metric", m.samples[0]!.time, m.samples.at(-1)!.time);
    }
  }
  if (!skip.traces) for (const r of changes.routes) mark(r.state.service, "span", r.windowStart);
  return [...services].map(([name, seen]) => ({
    name,
    first: seen.first,
    last: seen.last,
    signals: [...seen.signals],
  }));
}

// --- Announce and refresh ------------------------------------------------------------------------------

/**
 * `capsule-events` announce what the capsules table already holds (the source of truth); after a crash
 * between the window write and this publish, the redelivered batch is skipped and its announcements
 * are not repeated.
 */
async function announce(bus: Bus, changes: StageChanges): Promise<void> {
  if (changes.capsuleEvents.length === 0) return;
  try {
    await bus.publish(
      TOPICS.capsuleEvents,
      changes.capsuleEvents.map((e) => ({ key: e.service, value: e })),
    );
  } catch (err) {
    // Nobody reading the announcements (the in-process bus with no subscriber fills up) must not stop
    // the stage: they are counted as dropped, and the capsules table still holds every count.
    if (!(err instanceof BusSaturatedError)) throw err;
    announcementsDropped.inc(changes.capsuleEvents.length);
  }
}

/** Samples blobs (one JSONL.gz per service-window) and embeddings, paced per service-window. */
async function refresh(run: Run, changed: Capsule[], force: boolean): Promise<void> {
  await refreshSamplesBlobs(run, changed, force);
  await embedNew(run, changed);
}

async function refreshSamplesBlobs(run: Run, changed: Capsule[], force: boolean): Promise<void> {
  const due = new Map<string, { service: string; windowStart: number }>();
  const t = run.now();
  for (const c of changed) {
    const k = `${c.service}\u0000${c.windowStart}`;
    if (force || (run.blobDue.get(k) ?? 0) <= t)
      due.set(k, { service: c.service, windowStart: c.windowStart });
  }
  for (const [k, { service, windowStart }] of due) {
    run.blobDue.set(k, t + run.refreshMs);
    const capsules = await listCapsules(run.deps.sql, {
      service,
      since: windowStart,
      until: windowStart + 1,
      limit: 1_000_000,
    });
    const key = samplesKey(service, windowStart);
    await putJsonlGz(
      run.deps.blobs,
      key,
      capsules.map((c) => ({
        fingerprint: c.fingerprint,
        template: c.template,
        count: c.count,
        samples: c.samples,
      })),
    );
    await setCapsuleBlobRef(run.deps.sql, service, windowStart, key);
  }
}

/** Embeds the templates of capsules not embedded yet, `embedBatch` at a time (when a vector store is set). */
async function embedNew(run: Run, changed: Capsule[]): Promise<void> {
  const { vectors, embedder } = run.deps;
  if (!vectors || !embedder) return;
  const fresh = changed.filter((c) => !run.embedded.has(capsuleId(c)));
  for (let i = 0; i < fresh.length; i += run.embedBatch) {
    const batch = fresh.slice(i, i + run.embedBatch);
    const embeddings = await embedder.embed(batch.map((c) => c.template));
    await vectors.upsert(
      batch.map((c, j) => ({
        id: capsuleId(c),
        vector: embeddings[j]!,
        metadata: {
          service: c.service,
          windowStart: c.windowStart,
          fingerprint: c.fingerprint,
          template: c.template,
        },
      })),
    );
    for (const c of batch) run.embedded.add(capsuleId(c));
  }
}
