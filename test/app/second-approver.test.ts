import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { analyze } from "../../src/app/analyze.js";
import { approve } from "../../src/app/approve.js";
import { type AppContext, openApp } from "../../src/app/context.js";
import { amend } from "../../src/app/proposals.js";
import { ConfigSchema } from "../../src/config.js";
import { approvalsOf } from "../../src/store/repos/approvals.js";
import { listAudit } from "../../src/store/repos/audit.js";
import { getProposal } from "../../src/store/repos/proposals.js";
import { SMALL_DEMO_END, SMALL_DEMO_STEP_SECONDS, storeSmallDemo } from "../helpers/demo-store.js";
import { availability, latency, openProposals } from "../helpers/recorded-proposals.js";

/**
 * A policy that asks for a second approver (`requireSecondApprover: true`): the first approval is recorded
 * and answered "1 of 2", the same person again (from any chat) does not count twice, an approval at another
 * target does not add up with it, someone the policy does not list is refused, and a second distinct
 * approver opens the change. Proposals recorded from `analyze checkout` on the demo shop. An approval counts
 * only for the version of the proposal it was given for: after a re-analysis that changes the proposal, a
 * second approver alone does not open the change; after one that changes nothing, they do.
 */

const ids = [availability.id, latency.id];

/** A local repository whose policy lets alice and bob approve and asks for a second approver, and an app on it. */
async function openPolicyApp(dir: string) {
  const repo = join(dir, "repo");
  const git = (...args: string[]) => execFileSync("git", ["-C", repo, ...args], { encoding: "utf8" });
  mkdirSync(join(repo, ".slo-scout"), { recursive: true });
  git("init", "-q", "-b", "main");
  writeFileSync(
    join(repo, ".slo-scout/policy.yml"),
    "approvers:\n  users: [alice, bob]\nrequireSecondApprover: true\n",
  );
  git("add", ".slo-scout/policy.yml");
  git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "policy");
  const app = await openApp(ConfigSchema.parse({ DATABASE_URL: "pglite://memory", SLO_SCOUT_REPO: repo }), {
    logger: pino({ level: "silent" }),
  });
  return { app, git, branches: () => git("branch", "--list", "slo-scout/*").trim() };
}

describe("approve under a policy asking for a second approver", { timeout: 120_000 }, () => {
  let dir: string;
  let app: AppContext;
  let git: (...args: string[]) => string;
  let branches: () => string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "slo-scout-second-approver-"));
    ({ app, git, branches } = await openPolicyApp(dir));
    await openProposals(app.sql, [availability, latency]);
  });
  afterAll(async () => {
    await app?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("waits after the first approval, and the same approver twice does not count twice", async () => {
    const first = await approve(app, ids, { by: { login: "alice", source: "github" } });
    expect(first).toMatchObject({ ok: false, refusal: { code: "awaiting-approval" } });
    if (!first.ok) {
      expect(first.refusal.reason).toMatch(/^1 of 2 approvals: waiting for another approver\./);
      expect(first.refusal.reason).toContain("alice approved");
    }
    const again = await approve(app, ids, { by: { login: "alice", source: "slack" } });
    expect(again).toMatchObject({ ok: false, refusal: { code: "awaiting-approval" } });
    const renewed = await approve(app, ids, { by: { login: "alice", source: "github" } });
    expect(renewed).toMatchObject({ ok: false, refusal: { code: "awaiting-approval" } });
    expect(branches()).toBe("");
    for (const id of ids) expect((await getProposal(app.sql, id))?.status).toBe("proposed");
    const recorded = await approvalsOf(app.sql, ids);
    expect(recorded.map((a) => `${a.proposalId} ${a.approver}`).sort()).toEqual(
      ids.flatMap((id) => [`${id} github:alice`, `${id} slack:alice`]).sort(),
    );
    const audit = await listAudit(app.sql, { action: "approve-first" });
    expect(audit).toHaveLength(3);
    expect(audit[0]).toMatchObject({ subject: "service:checkout" });
  });

  it("refuses an approver the policy does not list, and does not count them", async () => {
    const r = await approve(app, ids, { by: { login: "mallory", source: "github" } });
    expect(r).toMatchObject({ ok: false, refusal: { code: "unauthorized" } });
    expect((await approvalsOf(app.sql, ids)).some((a) => a.login === "mallory")).toBe(false);
  });

  it("does not add an approval at another target to one at the recommended target", async () => {
    const r = await approve(app, ids, { by: { login: "bob", source: "github" }, target: 99.5 });
    expect(r).toMatchObject({ ok: false, refusal: { code: "awaiting-approval" } });
    if (!r.ok) expect(r.refusal.reason).toContain("at 99.5%");
    expect(branches()).toBe("");
  });

  it("opens the change when a second, distinct approver approves the same proposals", async () => {
    const r = await approve(app, ids, { by: { login: "bob", source: "github" } });
    if (!r.ok) throw new Error(`${r.refusal.reason}\n${r.refusal.details?.join("\n")}`);
    expect(r.value[0]!.change.branch).toBe("slo-scout/checkout");
    expect(git("rev-list", "--count", "main..slo-scout/checkout").trim()).toBe("1");
    expect(r.value[0]!.change.body).toContain("approved by `github:bob`");
    for (const id of ids) expect((await getProposal(app.sql, id))?.status).toBe("committed");
    expect(await approvalsOf(app.sql, ids)).toEqual([]);
  });
});

describe("approvals of a proposal a re-analysis changed", { timeout: 120_000 }, () => {
  let dir: string;
  let app: AppContext;
  let branches: () => string;
  /** `analyze checkout` over the stored demo, saving its proposals as a chat's analyze does. */
  const analyzeCheckout = async (quantile?: number) => {
    const r = await analyze(app, {
      service: "checkout",
      end: SMALL_DEMO_END,
      stepMs: SMALL_DEMO_STEP_SECONDS * 1000,
      llm: false,
      ...(quantile !== undefined ? { quantile } : {}),
    });
    if (!r.ok) throw new Error(r.refusal.reason);
    const byKind = (kind: string) => r.value.proposals.find((p) => p.sli.kind === kind)!;
    return { availability: byKind("availability"), latency: byKind("latency") };
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "slo-scout-approval-versions-"));
    ({ app, branches } = await openPolicyApp(dir));
    // Checkout's telemetry and every trace (its journeys): all `analyze checkout` reads, loaded in seconds.
    await storeSmallDemo(app.sql, join(dir, "blobs"), 8, {
      keep: (e) => e.service === "checkout" || e.kind === "span",
    });
  });
  afterAll(async () => {
    await app?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("does not count a first approval toward the version a re-analysis changed", async () => {
    const before = (await analyzeCheckout()).latency;
    const first = await approve(app, [before.id], { by: { login: "alice", source: "github" } });
    expect(first).toMatchObject({ ok: false, refusal: { code: "awaiting-approval" } });

    // Another latency quantile: the same proposal id, another threshold and target.
    const after = (await analyzeCheckout(0.9)).latency;
    expect(after.id).toBe(before.id);
    expect(after.sli.threshold?.value).not.toBe(before.sli.threshold?.value);
    expect((await getProposal(app.sql, after.id))?.status).toBe("proposed");

    const second = await approve(app, [after.id], { by: { login: "bob", source: "slack" } });
    expect(second).toMatchObject({ ok: false, refusal: { code: "awaiting-approval" } });
    if (!second.ok) {
      expect(second.refusal.reason).toMatch(/^1 of 2 approvals: waiting for another approver\./);
      expect(second.refusal.reason).toContain("bob approved");
    }
    expect(branches()).toBe("");
    expect((await getProposal(app.sql, after.id))?.status).toBe("proposed");
  });

  it("does not count an approval toward the target an amendment changed", async () => {
    const { latency: open } = await analyzeCheckout(0.9);
    // bob approved this version above; carol moves its target before alice approves.
    const amended = await amend(app, open.id, { by: { login: "carol", source: "api" }, target: 97 });
    expect(amended.ok).toBe(true);
    const r = await approve(app, [open.id], { by: { login: "alice", source: "github" } });
    expect(r).toMatchObject({ ok: false, refusal: { code: "awaiting-approval" } });
    expect(branches()).toBe("");
  });

  it("counts a first approval when a re-analysis leaves the proposal as it was", async () => {
    const before = (await analyzeCheckout(0.9)).availability;
    const first = await approve(app, [before.id], { by: { login: "alice", source: "github" } });
    expect(first).toMatchObject({ ok: false, refusal: { code: "awaiting-approval" } });

    const after = (await analyzeCheckout(0.9)).availability;
    expect(after).toMatchObject({ id: before.id, sli: before.sli, target: before.target });

    const second = await approve(app, [after.id], { by: { login: "bob", source: "slack" } });
    if (!second.ok) throw new Error(`${second.refusal.reason}\n${second.refusal.details?.join("\n")}`);
    expect(second.value[0]!.change.branch).toBe("slo-scout/checkout");
    expect((await getProposal(app.sql, after.id))?.status).toBe("committed");
  });
});
