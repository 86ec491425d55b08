import { appendFileSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Spool, type SpoolMessage } from "../../../src/pipeline/bus/spool.js";

const root = mkdtempSync(join(tmpdir(), "slo-scout-spool-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => join(root, String(n++));

const batch = (values: number[], partition = 0) =>
  values.map((v) => ({ partition, key: `k${v}`, value: { v } }));

describe("ingest spool", () => {
  it("gives back every appended batch after a crash, in order, with the offsets the bus saw", async () => {
    const dir = freshDir();
    const { spool } = await Spool.open(dir, 2);
    const committed: SpoolMessage[] = [];
    await Promise.all([
      spool.append(batch([1, 2]), (s) => committed.push(...s)),
      spool.append(batch([3], 1), (s) => committed.push(...s)),
      spool.append(batch([4]), (s) => committed.push(...s)),
    ]);
    expect(committed.map((m) => [m.partition, m.offset, m.value])).toEqual([
      [0, 0, { v: 1 }],
      [0, 1, { v: 2 }],
      [1, 0, { v: 3 }],
      [0, 2, { v: 4 }],
    ]);
    // No close: the process was killed. A torn frame at the end was never acknowledged.
    appendFileSync(join(dir, readdirSync(dir)[0]!), Buffer.from([200, 0, 0, 0, 1, 2, 3]));
    const again = await Spool.open(dir, 2);
    expect(again.messages).toEqual(committed);
    expect(again.spool.nextOffsets).toEqual([3, 1]);
    await again.spool.close();
  });

  it("continues at the stored offsets when they are ahead of it, and forgets released segments", async () => {
    const dir = freshDir();
    const { spool } = await Spool.open(dir, 1, [100], 64);
    for (let i = 0; i < 4; i++) await spool.append(batch([i, i + 10]), () => {});
    expect(spool.nextOffsets).toEqual([108]);
    spool.release([104]);
    const kept = await Spool.open(dir, 1);
    expect(kept.messages.map((m) => m.offset)).toEqual([104, 105, 106, 107]);
    await kept.spool.close();
    spool.release([108]);
    await spool.close();
    // A clean stop after everything was released leaves nothing to replay.
    const after = await Spool.open(dir, 1, [108]);
    expect(after.messages).toEqual([]);
    expect(after.spool.nextOffsets).toEqual([108]);
    await after.spool.close();
  });
});
