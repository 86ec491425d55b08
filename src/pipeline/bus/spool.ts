import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { join } from "node:path";
import { deserialize, serialize } from "node:v8";
import { crc32 } from "node:zlib";

/**
 * A write-ahead spool for the in-process bus: every batch a receiver publishes is appended to a local
 * file and fsync'd before the publish resolves (so before the 2xx), and the stream stage releases what it
 * has stored, so a process killed with SIGKILL replays what it had acknowledged but not stored at its next
 * start. Appends that arrive while a write is on disk are written together with one fsync (group commit),
 * so concurrent senders share its cost.
 *
 * On disk: segment files `<number>.spool` of frames `[u32 length][u32 crc32][v8-serialized batch]`. A frame
 * cut short by a crash fails its length or checksum and ends the segment's replay; it was never
 * acknowledged. A new process appends to a new segment, and a segment is deleted once every message in
 * it is released.
 */

export interface SpoolMessage {
  partition: number;
  offset: number;
  key: string;
  value: unknown;
}

interface Batch {
  partitions: number[];
  offsets: number[];
  keys: string[];
  values: unknown[];
}

interface Segment {
  number: number;
  path: string;
  /** Highest offset held per partition (-1: none). */
  maxOffsets: number[];
}

interface Pending {
  messages: { partition: number; key: string; value: unknown }[];
  commit: (stored: SpoolMessage[]) => void;
  resolve: () => void;
  reject: (err: unknown) => void;
}

const SEGMENT_BYTES = 64 * 1024 * 1024;

const segmentName = (n: number) => `${String(n).padStart(12, "0")}.spool`;

/** Every intact frame of a segment, in order; stops at the first torn or corrupt one. */
function readSegment(path: string): Batch[] {
  const data = readFileSync(path);
  const out: Batch[] = [];
  let at = 0;
  while (at + 8 <= data.length) {
    const length = data.readUInt32LE(at);
    const crc = data.readUInt32LE(at + 4);
    const body = data.subarray(at + 8, at + 8 + length);
    if (body.length < length || crc32(body) !== crc) break;
    out.push(deserialize(body) as Batch);
    at += 8 + length;
  }
  return out;
}

export class Spool {
  private readonly segments: Segment[] = [];
  private size = 0;
  private queue: Pending[] = [];
  private writing: Promise<void> | undefined;
  private closed = false;
  private released: number[] = [];

  private constructor(
    private readonly dir: string,
    existing: Segment[],
    /** The next offset per partition. */
    private readonly next: number[],
    private readonly segmentBytes: number,
    private file: FileHandle,
    current: Segment,
  ) {
    this.segments.push(...existing, current);
  }

  /**
   * Opens the spool in `dir` (created when missing) and reads what it holds. Offsets continue after the
   * highest one it holds and at or after `startAt` per partition (the consumer's stored offsets), so a
   * spool that was deleted never reuses an offset the consumer has stored.
   */
  static async open(
    dir: string,
    partitions: number,
    startAt: number[] = [],
    segmentBytes = SEGMENT_BYTES,
  ): Promise<{ spool: Spool; messages: SpoolMessage[] }> {
    mkdirSync(dir, { recursive: true });
    const existing: Segment[] = [];
    const messages: SpoolMessage[] = [];
    const next = Array.from({ length: partitions }, (_, p) => startAt[p] ?? 0);
    const files = readdirSync(dir)
      .filter((f) => /^\d{12}\.spool$/.test(f))
      .sort();
    for (const file of files) {
      const path = join(dir, file);
      const maxOffsets = next.map(() => -1);
      for (const b of readSegment(path)) {
        for (let i = 0; i < b.offsets.length; i++) {
          const p = b.partitions[i]!;
          if (p >= partitions) continue;
          messages.push({ partition: p, offset: b.offsets[i]!, key: b.keys[i]!, value: b.values[i] });
          maxOffsets[p] = Math.max(maxOffsets[p]!, b.offsets[i]!);
        }
      }
      existing.push({ number: Number(file.slice(0, 12)), path, maxOffsets });
    }
    const held = new Map<number, number>();
    for (const m of messages) held.set(m.partition, Math.max(held.get(m.partition) ?? -1, m.offset));
    for (const [p, max] of held) next[p] = Math.max(next[p]!, max + 1);
    const number = (existing.at(-1)?.number ?? 0) + 1;
    const path = join(dir, segmentName(number));
    const file = await open(path, "a");
    const current = { number, path, maxOffsets: next.map(() => -1) };
    return { spool: new Spool(dir, existing, next, segmentBytes, file, current), messages };
  }

  /** The next offset per partition (what the bus's topic continues from). */
  get nextOffsets(): readonly number[] {
    return this.next;
  }

  /**
   * Appends a batch and resolves once it is on disk. Offsets are given in append order; `commit` gets
   * the batch with them right after the fsync (before any later batch's), so the bus adds it in order.
   */
  append(
    messages: { partition: number; key: string; value: unknown }[],
    commit: (stored: SpoolMessage[]) => void,
  ): Promise<void> {
    if (this.closed) return Promise.reject(new Error("the ingest spool is closed"));
    return new Promise((resolve, reject) => {
      this.queue.push({ messages, commit, resolve, reject });
      this.writing ??= this.writeQueued();
    });
  }

  /**
   * Deletes the segments whose every message is below `from` (per partition): the consumer stored their
   * effects. The segment being written is kept.
   */
  release(from: readonly number[]): void {
    this.released = [...from];
    while (this.segments.length > 1) {
      const s = this.segments[0]!;
      if (!s.maxOffsets.every((max, p) => max < (from[p] ?? 0))) return;
      rmSync(s.path, { force: true });
      this.segments.shift();
    }
  }

  /** Closes the file; when every message was released (a clean stop), nothing is left to replay. */
  async close(): Promise<void> {
    this.closed = true;
    await this.writing;
    await this.file.close();
    if (this.segments.every((s) => s.maxOffsets.every((max, p) => max < (this.released[p] ?? 0)))) {
      for (const s of this.segments) rmSync(s.path, { force: true });
    }
  }

  /**
   * Writes everything queued as one write and one fdatasync, then the next group, until the queue is
   * empty; appends that arrive during a write join the next group. A failed write truncates what it may
   * have added and gives its offsets back, so the spool never holds a batch a sender was refused.
   */
  private async writeQueued(): Promise<void> {
    while (this.queue.length > 0) {
      const group = this.queue;
      this.queue = [];
      const before = [...this.next];
      const segment = this.segments.at(-1)!;
      const maxBefore = [...segment.maxOffsets];
      let stored: Batch[];
      try {
        stored = group.map((pending) => this.assign(pending.messages, segment));
        const buffer = Buffer.concat(stored.map(frame));
        let at = 0;
        while (at < buffer.length) at += (await this.file.write(buffer, at)).bytesWritten;
        await this.file.datasync();
        this.size += buffer.length;
      } catch (err) {
        this.next.splice(0, this.next.length, ...before);
        segment.maxOffsets.splice(0, segment.maxOffsets.length, ...maxBefore);
        // The frame checksum keeps a partial frame from being replayed if this fails too.
        await this.file.truncate(this.size).catch(() => {});
        for (const pending of group) pending.reject(err);
        continue;
      }
      for (let i = 0; i < group.length; i++) group[i]!.commit(toMessages(stored[i]!));
      for (const pending of group) pending.resolve();
      // A failed roll leaves the current segment growing; the next write tries again.
      if (this.size >= this.segmentBytes) await this.roll().catch(() => {});
    }
    // In the same tick as the empty check above, so an append never waits on a writer that has finished.
    this.writing = undefined;
  }

  private assign(messages: Pending["messages"], segment: Segment): Batch {
    const batch: Batch = { partitions: [], offsets: [], keys: [], values: [] };
    for (const m of messages) {
      const offset = this.next[m.partition]!;
      this.next[m.partition] = offset + 1;
      segment.maxOffsets[m.partition] = offset;
      batch.partitions.push(m.partition);
      batch.offsets.push(offset);
      batch.keys.push(m.key);
      batch.values.push(m.value);
    }
    return batch;
  }

  private async roll(): Promise<void> {
    const number = this.segments.at(-1)!.number + 1;
    const path = join(this.dir, segmentName(number));
    const next = await open(path, "a");
    await this.file.close();
    this.file = next;
    this.size = 0;
    this.segments.push({ number, path, maxOffsets: this.next.map(() => -1) });
  }
}

function frame(batch: Batch): Buffer {
  const body = serialize(batch);
  const header = Buffer.alloc(8);
  header.writeUInt32LE(body.length, 0);
  header.writeUInt32LE(crc32(body), 4);
  return Buffer.concat([header, body]);
}

function toMessages(batch: Batch): SpoolMessage[] {
  return batch.offsets.map((offset, i) => ({
    partition: batch.partitions[i]!,
    offset,
    key: batch.keys[i]!,
    value: batch.values[i],
  }));
}
