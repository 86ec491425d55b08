import type { Logger } from "pino";
import type { Capsule } from "../core/capsule.js";
import type { TelemetryEvent } from "../core/telemetry.js";
import { counter, gauge } from "../observability/metrics.js";
import { putJsonlGz } from "../store/blobs/jsonl.js";
import { samplesKey } from "../store/blobs/keys.js";
import type { BlobStore, Embedder, Sql, VectorStore } from "../store/ports.js";
import { capsuleId, listCapsules, setCapsuleBlobRef } from "../store/repos/capsules.js";
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
import type { Bus, BusBatch, Subscription } from "./bus/bus.js";
import { BusSaturatedError, TOPICS } from "./bus/bus.js";
import type { FingerprinterState } from "./fingerprint/fingerprinter.js";
import type { Redactor } from "./redact.js";
import { type StageChanges, TelemetryStage } from "./stage.js";
import { addWindowChanges, lockWindows } from "./window-writes.js";

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
 * (`applied_traces`).
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
  /** Processing-time clock (trace assembly, flush pacing). */
  now?: () => number;
  random?: () => number;
  /** Samples blobs and embeddings of a service-window are refreshed at most this often. */
  refreshMs?: number;
  embedBatch?: number;
  group?: string;
  /** Message ids remembered per partition to drop a message the producer wrote twice (see handle). */
  recentIds?: number;
}

export interface Pipeline {
  /** Completes every open trace and writes everything still pending (end of an offline ingest). */
  drain(): Promise<void>;
  stop(): Promise<void>;
  readonly counters: TelemetryStage["counters"];
}

const eventsTotal = counter("slo_scout_pipeline_events_total", "Events the stream stage processed", ["kind"]);
const droppedLate = counter(
  "slo_scout_pipeline_dropped_late_total",
  "Events that arrived after their window closed (beyond the allowed lateness)",
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
  "Messages skipped because the bus held them twice (a producer resent a request it had written)",
);
const watermarkGauge = gauge(
  "slo_scout_pipeline_watermark_seconds",
  "Event-time watermark of the stream stage per service",
  ["service"],
);

export async function startPipeline(deps: PipelineDeps): Promise<Pipeline> {
  const now = deps.now ?? Date.now;
  const group = deps.group ?? PIPELINE_GROUP;
  const windowMs = deps.windowMs ?? 3_600_000;
  const windows = { windowMs, allowedLatenessMs: deps.allowedLatenessMs };
  const refreshMs = deps.refreshMs ?? 5_000;
  const embedBatch = deps.embedBatch ?? 100;
  const random = deps.random ?? Math.random;

  const stage = await restore();
  /**
   * Per topic/partition: the next offset the stored windows cover, and the next the in-memory stage
   * covers (ahead of it while a change set waits for the store). Offsets stored for an in-process bus
   * belong to a previous process's bus and are ignored.
   */
  const positions = new Map<string, { partition: number; stored: number; applied: number }>();
  /**
   * Change sets taken from the stage that the store has not taken yet (it is down), oldest first. They
   * are written before the stage applies anything new, so a change set never holds effects newer than
   * its offsets; a failed transaction stored nothing, so writing the set again adds it once.
   */
  const unwritten: { changes: StageChanges; offsets: Offset[]; force: boolean }[] = [];
  /**
   * Per topic/partition: the ids of the messages this worker applied (their effect is stored, or held in
   * the stage or in `unwritten` until it is), each with its offset, oldest first. kafkajs's producer
   * resends a whole request when one of its partitions failed, so a message can be on the topic twice, at
   * two offsets, which the offsets cannot tell apart: the second has an id applied at another offset and is
   * dropped. A resend follows its request within the producer's retry budget (about a second), so it lands
   * in the same or one of the next few batches; the last `recentIds` ids of a partition (by default
   * 100,000, some 8 MB) cover that at any rate a partition takes. An id counts as applied where its effect
   * is not lost: a change set the store refused is kept and written again; one left out because another
   * worker stored its offsets first was applied there, and what lies past the stored offset comes again
   * at the same offsets, which an entry does not drop. It lives with the worker, not with a consumer
   * generation, so a consumer that rejoins its group still knows them; a worker that starts (or takes a
   * partition over) knows none of the ids before it, so a resend straddling that is still counted twice.
   */
  const recentIds = new Map<string, Map<string, number>>();
  const recentIdsLimit = deps.recentIds ?? 100_000;
  const blobDue = new Map<string, number>();
  const embedded = new Set<string>();
  let chain: Promise<void> = Promise.resolve();

  async function restore(): Promise<TelemetryStage> {
    const fp = await loadFingerprintState<FingerprinterState>(deps.sql, STATE_KEY);
    const s = new TelemetryStage({ windows, redact: deps.redact, random }, fp);
    const watermarks = await loadWatermarks(deps.sql, STATE_KEY);
    // Windows hold only what is added after this point (the store adds it), so the watermarks are all the
    // state a restart needs: they keep events for windows closed before it from counting.
    for (const [service, wm] of watermarks) s.restoreWatermark(service, wm);
    return s;
  }

  async function appliedTraces(ids: string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const { rows } = await deps.sql.query<{ trace_id: string }>(
      "SELECT trace_id FROM applied_traces WHERE trace_id = ANY($1::text[])",
      [ids],
    );
    return new Set(rows.map((r) => r.trace_id));
  }

  /** The next offset stored per partition of `raw-telemetry` for this group. */
  async function storedOffsets(sql: Sql): Promise<Map<number, number>> {
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
  async function storedParts(tx: Sql, changes: StageChanges, offsets: Offset[]) {
    const stored = await storedOffsets(tx);
    const ids = changes.traces.map((t) => t.traceId);
    const traces =
      ids.length > 0 &&
      (await tx.query("SELECT 1 FROM applied_traces WHERE trace_id = ANY($1::text[]) LIMIT 1", [ids])).rows
        .length > 0;
    return { messages: offsets.some((o) => (stored.get(o.partition) ?? 0) > o.from), traces, stored };
  }

  /**
   * Adds the change set to the stored windows with its offsets, leaving out what the store holds already.
   * Returns the capsules as stored now and, when its messages were left out, the stored offsets.
   */
  async function write(
    changes: StageChanges,
    offsets: Offset[],
  ): Promise<{ capsules: Capsule[]; overtaken?: Map<number, number> }> {
    const written = await deps.sql.transaction(async (tx) => {
      await lockWindows(tx);
      const skip = deps.bus.durable
        ? await storedParts(tx, changes, offsets)
        : { messages: false, traces: false, stored: new Map<number, number>() };
      if (!skip.messages) await insertSamples(tx, changes.samples);
      const capsules = await addWindowChanges(
        tx,
        {
          ...changes,
          ...(skip.messages ? { capsules: [], webVitals: [] } : {}),
          ...(skip.traces ? { routes: [], edges: [], examples: [] } : {}),
        },
        random,
      );
      if (changes.traces.length > 0 && !skip.traces) {
        await tx.query(
          `INSERT INTO applied_traces (trace_id, window_start)
           SELECT t, w FROM unnest($1::text[], $2::bigint[]) AS x(t, w) ON CONFLICT DO NOTHING`,
          [changes.traces.map((t) => t.traceId), changes.traces.map((t) => t.windowStart)],
        );
      }
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
      await touchServices(
        tx,
        [...services].map(([name, seen]) => ({
          name,
          first: seen.first,
          last: seen.last,
          signals: [...seen.signals],
        })),
      );
      if (changes.fingerprinterState) await saveFingerprintState(tx, STATE_KEY, changes.fingerprinterState);
      await saveWatermarks(tx, STATE_KEY, changes.watermarks);
      if (skip.messages) return { capsules, overtaken: skip.stored };
      await commitOffsets(
        tx,
        group,
        offsets.map((o) => ({ topic: TOPICS.rawTelemetry, partition: o.partition, nextOffset: o.next })),
      );
      return { capsules };
    });
    for (const [service, wm] of changes.watermarks) watermarkGauge.set({ service }, wm / 1000);
    return written;
  }

  /**
   * `capsule-events` announce what the capsules table already holds (the source of truth); after a crash
   * between the window write and this publish, the redelivered batch is skipped and its announcements
   * are not repeated.
   */
  async function announce(changes: StageChanges) {
    if (changes.capsuleEvents.length === 0) return;
    try {
      await deps.bus.publish(
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
  async function refresh(changed: Capsule[], force: boolean) {
    const due = new Map<string, { service: string; windowStart: number }>();
    const t = now();
    for (const c of changed) {
      const k = `${c.service}\u0000${c.windowStart}`;
      if (force || (blobDue.get(k) ?? 0) <= t) due.set(k, { service: c.service, windowStart: c.windowStart });
    }
    for (const [k, { service, windowStart }] of due) {
      blobDue.set(k, t + refreshMs);
      const capsules = await listCapsules(deps.sql, {
        service,
        since: windowStart,
        until: windowStart + 1,
        limit: 1_000_000,
      });
      const key = samplesKey(service, windowStart);
      await putJsonlGz(
        deps.blobs,
        key,
        capsules.map((c) => ({
          fingerprint: c.fingerprint,
          template: c.template,
          count: c.count,
          samples: c.samples,
        })),
      );
      await setCapsuleBlobRef(deps.sql, service, windowStart, key);
    }
    if (!deps.vectors || !deps.embedder) return;
    const fresh = changed.filter((c) => !embedded.has(capsuleId(c)));
    for (let i = 0; i < fresh.length; i += embedBatch) {
      const batch = fresh.slice(i, i + embedBatch);
      const vectors = await deps.embedder.embed(batch.map((c) => c.template));
      await deps.vectors.upsert(
        batch.map((c, j) => ({
          id: capsuleId(c),
          vector: vectors[j]!,
          metadata: {
            service: c.service,
            windowStart: c.windowStart,
            fingerprint: c.fingerprint,
            template: c.template,
          },
        })),
      );
      for (const c of batch) embedded.add(capsuleId(c));
    }
  }

  /**
   * Stores the change sets waiting for the store, in order; throws while the store refuses (the bus then
   * redelivers the batch, or the timer tries again), keeping them for the next attempt.
   */
  async function writeUnwritten() {
    while (unwritten.length > 0) {
      const { changes, offsets, force } = unwritten[0]!;
      const { capsules, overtaken } = await write(changes, offsets);
      unwritten.shift();
      if (overtaken) {
        // Its messages were left out: this worker continues from the stored offsets, and a message after
        // them that only this change set held must come again, so the batch is refused (redelivered).
        let missing = false;
        for (const o of offsets) {
          const next = overtaken.get(o.partition) ?? 0;
          positions.set(o.key, { partition: o.partition, stored: next, applied: next });
          missing ||= next < o.next;
          redelivered.inc(o.next - o.from);
        }
        if (missing) throw new Error("another worker stored part of this batch first; it is consumed again");
        continue;
      }
      for (const o of offsets) positions.get(o.key)!.stored = o.next;
      if (changes.droppedLate > 0) droppedLate.inc(changes.droppedLate);
      await announce(changes);
      await refresh(capsules, force);
    }
  }

  async function settle(collected: Collected, force: boolean) {
    unwritten.push({ changes: collected.changes, offsets: collected.offsets, force });
    await writeUnwritten();
  }

  async function handle(batch: BusBatch<TelemetryEvent>) {
    await writeUnwritten();
    const key = `${batch.topic}/${batch.partition}`;
    let position = positions.get(key);
    if (!position) {
      position = { partition: batch.partition, stored: 0, applied: 0 };
      positions.set(key, position);
    }
    // The bus resumes at its own committed offset, which lags the stored one when its commit failed after
    // the window write (a consumer that crashed and rejoined) or when another worker held the partition
    // in between (a rebalance): the stored offset, read again for every batch, is where applying resumes.
    // Messages this stage holds but has not stored are left alone; the write finds out if they were
    // stored meanwhile.
    if (deps.bus.durable && position.applied === position.stored) {
      const stored = (await storedOffsets(deps.sql)).get(batch.partition) ?? 0;
      if (stored > position.stored) position.stored = position.applied = stored;
    }
    // A redelivery after a failed write holds messages the stage has applied but the store lacks: they
    // are not applied again, and the change set taken below carries their offsets.
    let last = -1;
    let ids = recentIds.get(key);
    for (const m of batch.messages) {
      const offset = Number(m.offset);
      last = Math.max(last, offset);
      if (offset < position.applied) {
        redelivered.inc();
        continue;
      }
      if (m.id !== undefined) {
        if (!ids) {
          ids = new Map();
          recentIds.set(key, ids);
        }
        const seen = ids.get(m.id);
        if (seen !== undefined && seen !== offset) {
          duplicates.inc();
          continue;
        }
        if (seen === undefined) {
          ids.set(m.id, offset);
          // Maps keep insertion order: the first key is the oldest id.
          if (ids.size > recentIdsLimit) ids.delete(ids.keys().next().value!);
        }
      }
      eventsTotal.inc({ kind: m.value.kind });
      stage.apply(m.value, now());
    }
    position.applied = Math.max(position.applied, last + 1);
    if (last < position.stored) return;
    await settle(await collect(false), false);
  }

  /**
   * Folds the traces that are due (all, at the end of a run) into the aggregates and takes every change,
   * with the offsets it covers. A failed trace lookup leaves the traces and changes in the stage.
   */
  async function collect(allTraces: boolean): Promise<Collected> {
    const pending = stage.completeTraces(now(), allTraces);
    const traces = stage.foldTraces(await appliedTraces(pending.map((t) => t.traceId)));
    const offsets: Offset[] = [];
    for (const [key, p] of positions) {
      if (p.applied > p.stored)
        offsets.push({ key, partition: p.partition, from: p.stored, next: p.applied });
    }
    return { changes: stage.takeChanges(traces), offsets, traces: pending.length };
  }

  const subscription: Subscription = await deps.bus.subscribe<TelemetryEvent>(
    TOPICS.rawTelemetry,
    group,
    (batch) => {
      // One batch at a time across partitions: the windows are shared state.
      const run = chain.then(() => handle(batch));
      chain = run.catch(() => {});
      return run;
    },
  );

  let timer: NodeJS.Timeout | undefined = setInterval(() => {
    chain = chain
      .then(async () => {
        await writeUnwritten();
        // Between batches only completed traces, or a batch whose collect failed, can change anything.
        const collected = await collect(false);
        if (collected.traces > 0 || collected.offsets.length > 0) await settle(collected, false);
      })
      .catch((err) => deps.logger?.error({ err }, "pipeline: completing traces failed"));
  }, 2_000);
  timer.unref();

  return {
    get counters() {
      return stage.counters;
    },
    async drain() {
      await deps.bus.flush();
      const run = chain.then(async () => {
        await writeUnwritten();
        await settle(await collect(true), true);
      });
      chain = run.catch(() => {});
      await run;
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await subscription.stop();
      await chain;
    },
  };
}
