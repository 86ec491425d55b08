import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { approve } from "../../src/app/approve.js";
import { type AppContext, openApp } from "../../src/app/context.js";
import { reject } from "../../src/app/proposals.js";
import { ConfigSchema } from "../../src/config.js";
import { Proposal } from "../../src/core/proposal.js";
import { listAudit } from "../../src/store/repos/audit.js";
import { getProposal, saveProposal } from "../../src/store/repos/proposals.js";
import { ROOT } from "../generators/helpers.js";

/**
 * The refusals of an approval, each leaving the repository and the proposals as they were, and the
 * approval that goes through: proposals recorded from `analyze checkout` on the demo shop.
 */

const recorded = JSON.parse(
  readFileSync(join(ROOT, "test/fixtures/analysis/demo-checkout.json"), "utf8"),
) as {
  proposals: unknown[];
};
const proposals = recorded.proposals.map((p) => Proposal.parse(p));
const availability = proposals.find((p) => p.name === "checkout POST /checkout availability")!;
const latency = proposals.find((p) => p.name === "checkout POST /checkout latency")!;

const alice = { login: "alice", source: "cli" as const };
const bob = { login: "bob", source: "cli" as const };

describe("approve", { timeout: 180_000 }, () => {
  let dir: string;
  let repo: string;
  let app: AppContext;
  const git = (...args: string[]) => execFileSync("git", ["-C", repo, ...args], { encoding: "utf8" });
  const setPolicy = (text: string) => {
    mkdirSync(join(repo, ".slo-scout"), { recursive: true });
    writeFileSync(join(repo, ".slo-scout/policy.yml"), text);
    git("add", ".slo-scout/policy.yml");
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "policy");
  };
  const branches = () => git("branch", "--list", "slo-scout/*").trim();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "slo-scout-approve-"));
    repo = join(dir, "repo");
    mkdirSync(repo);
    git("init", "-q", "-b", "main");
    setPolicy("approvers:\n  users: [alice]\n");
    app = await openApp(ConfigSchema.parse({ DATABASE_URL: "pglite://memory", SLO_SCOUT_REPO: repo }), {
      logger: pino({ level: "silent" }),
    });
  });
  beforeEach(async () => {
    for (const p of [availability, latency]) await saveProposal(app.sql, { ...p, status: "proposed" });
  });
  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("refuses an unknown id and an empty list", async () => {
    const r = await approve(app, ["prop-000000000000"], { by: alice });
    expect(r).toMatchObject({ ok: false, refusal: { code: "unknown-id" } });
    expect(await approve(app, [], { by: alice })).toMatchObject({
      ok: false,
      refusal: { code: "bad-request" },
    });
    expect(branches()).toBe("");
  });

  it("refuses someone the policy does not name as an approver", async () => {
    const r = await approve(app, [availability.id], { by: bob });
    expect(r).toMatchObject({ ok: false, refusal: { code: "unauthorized" } });
    if (!r.ok) expect(r.refusal.details).toContain("bob is not an allowed approver under the policy");
    expect(branches()).toBe("");
    expect((await getProposal(app.sql, availability.id))?.status).toBe("proposed");
  });

  it("refuses a target outside (0, 100)", async () => {
    const r = await approve(app, [availability.id], { by: alice, target: 100 });
    expect(r).toMatchObject({ ok: false, refusal: { code: "bad-request" } });
  });

  it("refuses artifacts that do not validate, and writes nothing", async () => {
    const broken = {
      ...availability,
      id: "prop-0000000000aa",
      sli: { ...availability.sli, promql: { errorRatio: "sum(rate(http_requests_total{[{{.window}}]))" } },
    };
    await saveProposal(app.sql, broken);
    const r = await approve(app, [broken.id], { by: alice });
    expect(r).toMatchObject({ ok: false, refusal: { code: "validation-failed" } });
    expect(branches()).toBe("");
    expect((await getProposal(app.sql, broken.id))?.status).toBe("proposed");
  });

  it("refuses what the repository's policy forbids, naming the rule", async () => {
    setPolicy("approvers:\n  users: [alice]\nallowedPaths: ['monitoring/**']\n");
    try {
      const r = await approve(app, [availability.id], { by: alice });
      expect(r).toMatchObject({ ok: false, refusal: { code: "policy" } });
      if (!r.ok) expect(r.refusal.details?.[0]).toMatch(/^\[allowed-paths\] slos\/checkout\.yml is outside/);
      expect(branches()).toBe("");
    } finally {
      setPolicy("approvers:\n  users: [alice]\n");
    }
  });

  it("opens one change for an allowed approver, audits it, and refuses to decide twice", async () => {
    const r = await approve(app, [availability.id, latency.id], { by: alice });
    if (!r.ok) throw new Error(`${r.refusal.reason}\n${r.refusal.details?.join("\n")}`);
    const [c] = r.value;
    expect(c!.change.branch).toBe("slo-scout/checkout");
    expect(c!.change.files).toEqual(
      expect.arrayContaining(["slos/checkout.yml", "rules/checkout.rules.yml", "dashboards/checkout.json"]),
    );
    expect(git("rev-list", "--count", "main..slo-scout/checkout").trim()).toBe("1");
    // The description a reviewer reads: what changes, why, blast radius, what was validated, how to regenerate.
    const body = c!.change.body;
    expect(body).toMatch(/^SLO-Scout approved 2 SLOs for \*\*checkout\*\*, approved by `cli:alice`\./);
    const sections = [...body.matchAll(/^### (.+)$/gm)].map((m) => m[1]);
    expect(sections).toEqual(["What changes", "Why", "Blast radius", "Validation", "Regenerate"]);
    for (const id of [availability.id, latency.id]) expect(body).toContain(id);
    expect(body).toMatch(/\*\*Evidence\*\*/);
    for (const validator of ["slo-spec", "rules", "rule-tests", "dashboard", "runbook"])
      expect(body).toMatch(new RegExp(`^- ${validator}: \\d+ files? passed$`, "m"));
    expect(body).toContain("slo-scout generate slos/checkout.yml --default-slo-period 28d -o rules");
    expect((await getProposal(app.sql, latency.id))?.status).toBe("committed");
    const [entry] = await listAudit(app.sql, { subject: "service:checkout" });
    expect(entry).toMatchObject({ actor: "cli:alice", action: "approve" });
    expect(entry!.details.proposals).toEqual([availability.id, latency.id]);

    const again = await approve(app, [availability.id], { by: alice });
    expect(again).toMatchObject({ ok: false, refusal: { code: "already-decided" } });
    const rejected = await reject(app, availability.id, { by: alice, reason: "changed my mind" });
    expect(rejected).toMatchObject({ ok: false, refusal: { code: "already-decided" } });
  });
});
