import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Capsule } from "../../src/core/capsule.js";
import type { Sql } from "../../src/store/ports.js";
import {
  capsuleId,
  getCapsule,
  listCapsules,
  parseCapsuleId,
  setCapsuleBlobRef,
  summarizeCapsules,
  upsertCapsules,
} from "../../src/store/repos/capsules.js";
import { availableEngines, OPEN_TIMEOUT_MS, type TestDb } from "./engines.js";

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 5, 10);
const fp = (n: number) => n.toString(16).padStart(64, "0");
const sev = (counts: Partial<Capsule["severityCounts"]>): Capsule["severityCounts"] => ({
  trace: 0,
  debug: 0,
  info: 0,
  warn: 0,
  error: 0,
  fatal: 0,
  ...counts,
});

function capsule(over: Partial<Capsule> = {}): Capsule {
  return {
    service: "checkout",
    fingerprint: fp(1),
    template: "payment failed for order <*>",
    windowStart: T0,
    count: 3,
    severityCounts: sev({ error: 2, warn: 1 }),
    firstSeen: T0 + 1000.25,
    lastSeen: T0 + 5000.75,
    samples: ["payment failed for order 1", "payment failed for order 2"],
    ...over,
  };
}

for (const engine of await availableEngines()) {
  describe(`capsules repository on ${engine.name}`, () => {
    let db: TestDb;
    let sql: Sql;
    beforeAll(async () => {
      db = await engine.open();
      sql = db.sql;
    }, OPEN_TIMEOUT_MS);
    afterAll(() => db?.drop());

    it("re-writing a window replaces its counts instead of adding them", async () => {
      await upsertCapsules(sql, [capsule()]);
      await upsertCapsules(sql, [capsule()]);
      const first = await getCapsule(sql, capsuleId(capsule()));
      expect(first?.count).toBe(3);

      await upsertCapsules(sql, [
        capsule({ count: 7, severityCounts: sev({ error: 7 }), samples: ["x"], lastSeen: T0 + 9000 }),
      ]);
      const again = await getCapsule(sql, capsuleId(capsule()));
      expect(again).toMatchObject({
        count: 7,
        severityCounts: sev({ error: 7 }),
        samples: ["x"],
        firstSeen: T0 + 1000,
        lastSeen: T0 + 9000,
      });
      const all = await listCapsules(sql, { service: "checkout" });
      expect(all).toHaveLength(1);
    });

    it("keeps one row per window and per fingerprint, last item of a batch winning", async () => {
      const rows = [
        capsule({ fingerprint: fp(2), windowStart: T0, count: 1 }),
        capsule({ fingerprint: fp(2), windowStart: T0 + HOUR, count: 4 }),
        capsule({ fingerprint: fp(2), windowStart: T0 + HOUR, count: 5 }),
        capsule({ fingerprint: fp(3), service: "cart", count: 9 }),
      ];
      expect(await upsertCapsules(sql, rows)).toBe(3);
      const fp2 = await listCapsules(sql, { fingerprint: fp(2) });
      expect(fp2.map((c) => [c.windowStart, c.count])).toEqual([
        [T0 + HOUR, 5],
        [T0, 1],
      ]);
      expect(await listCapsules(sql, { service: "checkout", since: T0 + HOUR })).toHaveLength(1);
      expect(await listCapsules(sql, { service: "checkout", until: T0 + HOUR })).toHaveLength(2);
      expect((await listCapsules(sql, { service: "cart" }))[0]?.count).toBe(9);
    });

    it("summarizes totals per fingerprint over a range", async () => {
      const summary = await summarizeCapsules(sql, { service: "checkout" });
      expect(summary.map((s) => [s.fingerprint, s.count, s.windows])).toEqual([
        [fp(1), 7, 1],
        [fp(2), 6, 2],
      ]);
    });

    it("keeps a blob reference once set, even when a later write carries none", async () => {
      expect(await setCapsuleBlobRef(sql, "checkout", T0, "samples/checkout/x.jsonl.gz")).toBe(2);
      await upsertCapsules(sql, [capsule({ count: 8 })]);
      const c = await getCapsule(sql, capsuleId(capsule()));
      expect(c?.blobRef).toBe("samples/checkout/x.jsonl.gz");
      expect(c?.count).toBe(8);
    });

    it("resolves ids back to rows and rejects malformed ids", async () => {
      expect(parseCapsuleId(capsuleId(capsule()))).toEqual({ fingerprint: fp(1), windowStart: T0 });
      expect(parseCapsuleId("nope")).toBeUndefined();
      expect(await getCapsule(sql, "nope")).toBeUndefined();
      expect(await getCapsule(sql, capsuleId({ fingerprint: fp(99), windowStart: T0 }))).toBeUndefined();
    });

    it("writes nothing for an empty batch", async () => {
      expect(await upsertCapsules(sql, [])).toBe(0);
    });
  });
}
