import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { approve } from "../../src/app/approve.js";
import { type AppContext, openApp } from "../../src/app/context.js";
import { ConfigSchema } from "../../src/config.js";
import { Proposal } from "../../src/core/proposal.js";
import { approvalsOf } from "../../src/store/repos/approvals.js";
import { listAudit } from "../../src/store/repos/audit.js";
import { getProposal, saveProposal } from "../../src/store/repos/proposals.js";
import { ROOT } from "../generators/helpers.js";

/**
 * A policy that asks for a second approver (`requireSecondApprover: true`): the first approval is recorded
 * and answered "1 of 2", the same person again (from any chat) does not count twice, an approval at another
 * target does not add up with it, someone the policy does not list is refused, and a second distinct
 * approver opens the change. Proposals recorded from `analyze checkout` on the demo shop.
 */

const proposals = (
  JSON.parse(readFileSync(join(ROOT, "test/fixtures/analysis/demo-checkout.json"), "utf8")) as {
    proposals: unknown[];
  }
).proposals.map((p) => Proposal.parse(p));
const availability = proposals.find((p) => p.name === "checkout POST /checkout availability")!;
const latency = proposals.find((p) => p.name === "checkout POST /checkout latency")!;
const ids = [availability.id, latency.id];

describe("approve under a policy asking for a second approver", { timeout: 120_000 }, () => {
  let dir: string;
  let repo: string;
  let app: AppContext;
  const git = (...args: string[]) => execFileSync("git", ["-C", repo, ...args], { encoding: "utf8" });
  const branches = () => git("branch", "--list", "slo-scout/*").trim();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "slo-scout-second-approver-"));
    repo = join(dir, "repo");
    mkdirSync(join(repo, ".slo-scout"), { recursive: true });
    git("init", "-q", "-b", "main");
    writeFileSync(
      join(repo, ".slo-scout/policy.yml"),
      "approvers:\n  users: [alice, bob]\nrequireSecondApprover: true\n",
    );
    git("add", ".slo-scout/policy.yml");
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "policy");
    app = await openApp(ConfigSchema.parse({ DATABASE_URL: "pglite://memory", SLO_SCOUT_REPO: repo }), {
      logger: pino({ level: "silent" }),
    });
    for (const p of [availability, latency]) await saveProposal(app.sql, { ...p, status: "proposed" });
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
