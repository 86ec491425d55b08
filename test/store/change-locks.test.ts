import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { approvalsOf, clearApprovals, recordApprovals } from "../../src/store/repos/approvals.js";
import { claimDelivery, DELIVERY_MEMORY_MS } from "../../src/store/repos/bot-deliveries.js";
import {
  acquireChangeLocks,
  finishChangeLock,
  getChangeLock,
  releaseBranchLocks,
} from "../../src/store/repos/change-locks.js";
import { availableEngines, OPEN_TIMEOUT_MS, type TestDb } from "./engines.js";

const repo = "acme/shop";
const pr3 = { repository: repo, owner: "github:acme/shop#3" };
const pr9 = { repository: repo, owner: "github:acme/shop#9" };
const HOUR = 3600_000;

for (const engine of await availableEngines()) {
  describe(`bot state on ${engine.name}`, () => {
    let db: TestDb;
    beforeAll(async () => {
      db = await engine.open();
    }, OPEN_TIMEOUT_MS);
    afterAll(() => db?.drop());

    it("claims a delivery once per host, and forgets it after a week", async () => {
      const t = 1_700_000_000_000;
      expect(await claimDelivery(db.sql, { host: "github", id: "d-1", now: t })).toBe(true);
      expect(await claimDelivery(db.sql, { host: "github", id: "d-1", now: t + 1 })).toBe(false);
      expect(await claimDelivery(db.sql, { host: "gitlab", id: "d-1", now: t + 2 })).toBe(true);
      expect(
        await claimDelivery(db.sql, { host: "github", id: "d-2", now: t + DELIVERY_MEMORY_MS + 1 }),
      ).toBe(true);
      expect(
        await claimDelivery(db.sql, { host: "github", id: "d-1", now: t + DELIVERY_MEMORY_MS + 2 }),
      ).toBe(true);
    });

    it("claims a delivery once when two servers race for it", async () => {
      const claims = await Promise.all(
        Array.from({ length: 8 }, () => claimDelivery(db.sql, { host: "github", id: "race", now: 1 })),
      );
      expect(claims.filter(Boolean)).toHaveLength(1);
    });

    it("holds a service for one approval at a time, then for its conversation until the change closes", async () => {
      const now = 1_000 * HOUR;
      const take = (scope: typeof pr3, job: string, services: string[], at = now) =>
        acquireChangeLocks(db.sql, { ...scope, services, job, now: at, ttlMs: HOUR });

      expect(await take(pr3, "j1", ["checkout", "payment"])).toEqual({ ok: true });
      // Another conversation, and another job of the same one, are refused while j1 runs.
      const other = await take(pr9, "j2", ["payment"]);
      expect(other).toMatchObject({ ok: false, holder: { service: "payment", owner: pr3.owner, job: "j1" } });
      expect(await take(pr3, "j3", ["checkout"])).toMatchObject({ ok: false });
      // All or none: a refused request leaves no lock of its own behind.
      expect(await take(pr9, "j4", ["cart", "checkout"])).toMatchObject({ ok: false });
      expect(await getChangeLock(db.sql, { repository: repo, service: "cart" })).toBeUndefined();

      await finishChangeLock(db.sql, {
        repository: repo,
        service: "checkout",
        job: "j1",
        branch: "slo-scout/checkout",
        now,
        ttlMs: 24 * HOUR,
      });
      await finishChangeLock(db.sql, { repository: repo, service: "payment", job: "j1", now, ttlMs: HOUR });
      // payment's approval opened nothing: free again. checkout's change is open: its conversation only.
      expect(await getChangeLock(db.sql, { repository: repo, service: "payment" })).toBeUndefined();
      expect(await take(pr9, "j5", ["checkout"])).toMatchObject({
        ok: false,
        holder: { owner: pr3.owner, branch: "slo-scout/checkout" },
      });
      expect(await take(pr3, "j6", ["checkout"])).toEqual({ ok: true });
      // j6 failed: the lock goes back to holding the open change.
      await finishChangeLock(db.sql, { repository: repo, service: "checkout", job: "j6", now, ttlMs: HOUR });
      expect(await getChangeLock(db.sql, { repository: repo, service: "checkout" })).toMatchObject({
        owner: pr3.owner,
        branch: "slo-scout/checkout",
      });
      expect(await getChangeLock(db.sql, { repository: repo, service: "checkout" })).not.toHaveProperty(
        "job",
      );

      expect(await releaseBranchLocks(db.sql, { repository: repo, branch: "slo-scout/checkout" })).toEqual([
        "checkout",
      ]);
      expect(await take(pr9, "j7", ["checkout"])).toEqual({ ok: true });
    });

    it("lets an expired lock go to whoever asks next", async () => {
      const now = 2_000 * HOUR;
      await acquireChangeLocks(db.sql, { ...pr3, services: ["search"], job: "a", now, ttlMs: HOUR });
      const later = await acquireChangeLocks(db.sql, {
        ...pr9,
        services: ["search"],
        job: "b",
        now: now + HOUR,
        ttlMs: HOUR,
      });
      expect(later).toEqual({ ok: true });
      expect(await getChangeLock(db.sql, { repository: repo, service: "search" })).toMatchObject({
        owner: pr9.owner,
        job: "b",
      });
    });

    it("keeps one approval per (proposal, approver), the later target and version winning, oldest first", async () => {
      await recordApprovals(db.sql, [
        { proposalId: "prop-a", approver: "github:alice", login: "alice", version: "v1", at: 1 },
        { proposalId: "prop-b", approver: "github:alice", login: "alice", target: 99.5, at: 1 },
      ]);
      await recordApprovals(db.sql, [
        { proposalId: "prop-a", approver: "slack:U0BOB", login: "U0BOB", at: 2 },
        { proposalId: "prop-b", approver: "github:alice", login: "alice", version: "v2", at: 3 },
      ]);
      expect(await approvalsOf(db.sql, ["prop-a", "prop-b", "prop-c"])).toEqual([
        { proposalId: "prop-a", approver: "github:alice", login: "alice", version: "v1", at: 1 },
        { proposalId: "prop-a", approver: "slack:U0BOB", login: "U0BOB", at: 2 },
        { proposalId: "prop-b", approver: "github:alice", login: "alice", version: "v2", at: 3 },
      ]);
      await recordApprovals(db.sql, [
        { proposalId: "prop-c", approver: "gitlab:carol", login: "carol", target: 99.9, at: 4 },
      ]);
      expect(await approvalsOf(db.sql, ["prop-c"])).toEqual([
        { proposalId: "prop-c", approver: "gitlab:carol", login: "carol", target: 99.9, at: 4 },
      ]);
      await clearApprovals(db.sql, ["prop-a", "prop-b"]);
      expect(await approvalsOf(db.sql, ["prop-a", "prop-b", "prop-c"])).toHaveLength(1);
      expect(await approvalsOf(db.sql, [])).toEqual([]);
    });
  });
}
