import type { Sql } from "../ports.js";

/**
 * State the stream stage keeps to survive restarts: the fingerprinter's template tree per service, event
 * time watermarks, and consumer offsets. Writing offsets with `tx` — the same transaction as the window
 * state they cover — is what makes the stage's effects exactly-once: after a crash it resumes from the
 * last offset whose effects are durable.
 */

export async function loadFingerprintState<T = unknown>(sql: Sql, service: string): Promise<T | undefined> {
  const { rows } = await sql.query<{ state: T }>("SELECT state FROM fingerprint_state WHERE service = $1", [
    service,
  ]);
  return rows[0]?.state;
}

export async function loadAllFingerprintStates<T = unknown>(sql: Sql): Promise<Map<string, T>> {
  const { rows } = await sql.query<{ service: string; state: T }>(
    "SELECT service, state FROM fingerprint_state",
  );
  return new Map(rows.map((r) => [r.service, r.state]));
}

export async function saveFingerprintState(
  sql: Sql,
  service: string,
  state: unknown,
  now = Date.now(),
): Promise<void> {
  await sql.query(
    `INSERT INTO fingerprint_state (service, state, updated_at) VALUES ($1, $2::jsonb, $3)
     ON CONFLICT (service) DO UPDATE SET state = EXCLUDED.state, updated_at = EXCLUDED.updated_at`,
    [service, JSON.stringify(state), now],
  );
}

export interface PartitionOffset {
  topic: string;
  partition: number;
  /** The offset of the next message to process (Kafka's committed-offset convention). */
  nextOffset: number;
}

/** Records offsets; an offset never moves backwards, so a stale writer cannot rewind a partition. */
export async function commitOffsets(
  sql: Sql,
  groupId: string,
  offsets: PartitionOffset[],
  now = Date.now(),
): Promise<void> {
  if (offsets.length === 0) return;
  await sql.query(
    `INSERT INTO consumer_offsets (group_id, topic, partition, next_offset, updated_at)
     SELECT $1, topic, partition, next_offset, $3 FROM jsonb_to_recordset($2::jsonb)
       AS r(topic text, partition integer, next_offset bigint)
     ON CONFLICT (group_id, topic, partition) DO UPDATE SET
       next_offset = GREATEST(consumer_offsets.next_offset, EXCLUDED.next_offset), updated_at = EXCLUDED.updated_at`,
    [
      groupId,
      JSON.stringify(
        offsets.map((o) => ({ topic: o.topic, partition: o.partition, next_offset: o.nextOffset })),
      ),
      now,
    ],
  );
}

export async function loadOffsets(sql: Sql, groupId: string, topic?: string): Promise<PartitionOffset[]> {
  const { rows } = await sql.query<{ topic: string; partition: number; next_offset: number }>(
    `SELECT topic, partition, next_offset FROM consumer_offsets
      WHERE group_id = $1 AND ($2::text IS NULL OR topic = $2) ORDER BY topic, partition`,
    [groupId, topic ?? null],
  );
  return rows.map((r) => ({ topic: r.topic, partition: r.partition, nextOffset: r.next_offset }));
}

/** Forgets a group's offsets, so it starts over (a deliberate re-processing). */
export async function resetOffsets(sql: Sql, groupId: string): Promise<void> {
  await sql.query("DELETE FROM consumer_offsets WHERE group_id = $1", [groupId]);
}

/** Moves a watermark forward only. */
export async function saveWatermark(
  sql: Sql,
  stage: string,
  key: string,
  watermark: number,
  now = Date.now(),
): Promise<void> {
  await saveWatermarks(sql, stage, new Map([[key, watermark]]), now);
}

/** saveWatermark for every key of a map in one statement (the stream stage saves one per service per batch). */
export async function saveWatermarks(
  sql: Sql,
  stage: string,
  watermarks: ReadonlyMap<string, number>,
  now = Date.now(),
): Promise<void> {
  if (watermarks.size === 0) return;
  await sql.query(
    `INSERT INTO window_watermarks (stage, key, watermark, updated_at)
     SELECT $1, key, watermark, $4 FROM unnest($2::text[], $3::bigint[]) AS w(key, watermark)
     ON CONFLICT (stage, key) DO UPDATE SET
       watermark = GREATEST(window_watermarks.watermark, EXCLUDED.watermark), updated_at = EXCLUDED.updated_at`,
    [stage, [...watermarks.keys()], [...watermarks.values()].map(Math.floor), now],
  );
}

export async function loadWatermarks(sql: Sql, stage: string): Promise<Map<string, number>> {
  const { rows } = await sql.query<{ key: string; watermark: number }>(
    "SELECT key, watermark FROM window_watermarks WHERE stage = $1",
    [stage],
  );
  return new Map(rows.map((r) => [r.key, r.watermark]));
}
