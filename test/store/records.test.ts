import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Journey } from "../../src/core/journey.js";
import { type Artifact, type Proposal, ProposalSummary } from "../../src/core/proposal.js";
import type { Slo } from "../../src/core/slo.js";
import type { Sql } from "../../src/store/ports.js";
import { appendAudit, listAudit } from "../../src/store/repos/audit.js";
import {
  getProposal,
  listArtifacts,
  listProposalSummaries,
  listProposals,
  proposalsCiting,
  saveArtifacts,
  saveProposal,
  setProposalStatus,
} from "../../src/store/repos/proposals.js";
import {
  getService,
  listJourneys,
  listServices,
  listSlos,
  replaceJourneys,
  saveSlo,
  touchService,
} from "../../src/store/repos/services.js";
import {
  commitOffsets,
  loadAllFingerprintStates,
  loadFingerprintState,
  loadOffsets,
  loadWatermarks,
  resetOffsets,
  saveFingerprintState,
  saveWatermark,
} from "../../src/store/repos/stream-state.js";
import { availableEngines, OPEN_TIMEOUT_MS, type TestDb } from "./engines.js";

function proposal(id: string, over: Partial<Proposal> = {}): Proposal {
  return {
    id,
    service: "checkout",
    journey: "api-gateway POST /api/checkout",
    sli: {
      id: `${id}-sli`,
      journey: "api-gateway POST /api/checkout",
      kind: "availability",
      source: "metrics",
      promql: {
        errorRatio: 'sum(rate(http_requests_total{code=~"5.."}[5m])) / sum(rate(http_requests_total[5m]))',
      },
    },
    target: { recommended: 99.9, errorBudget: 0.001 },
    window: "28d",
    backtest: { attainment: 0.9995, days: 28, ladder: [] },
    confidence: { score: 0.8, parts: [] },
    evidence: [
      { kind: "capsule", ref: `${"a".repeat(64)}:1767607200000`, note: "payment 5xx burst" },
      { kind: "metric", ref: 'http_requests_total{service="checkout"}', range: { start: 1, end: 2.5 } },
    ],
    warnings: [],
    status: "proposed",
    ...over,
  };
}

function journey(key: string, score: number): Journey {
  return {
    key,
    service: "api-gateway",
    entrySpans: [key],
    downstream: [],
    signature: key,
    trafficShare: 0.5,
    requests: 10,
    errorShare: 0,
    depth: 1,
    userFacing: true,
    score,
    exampleTraceIds: [],
  };
}

for (const engine of await availableEngines()) {
  describe(`records on ${engine.name}`, () => {
    let db: TestDb;
    let sql: Sql;
    beforeAll(async () => {
      db = await engine.open();
      sql = db.sql;
    }, OPEN_TIMEOUT_MS);
    afterAll(() => db?.drop());

    it("audit log: who did what, when and from which chat, newest first", async () => {
      const first = await appendAudit(sql, {
        at: 1000,
        actor: "github:octocat",
        action: "analyze",
        subject: "service:checkout",
        source: "github",
        chat: "https://github.com/acme/shop/pull/7",
      });
      await appendAudit(sql, {
        at: 2000,
        actor: "slack:U1",
        action: "approve",
        subject: "p1",
        source: "slack",
        details: { button: "approve" },
      });
      const all = await listAudit(sql);
      expect(all.map((a) => a.action)).toEqual(["approve", "analyze"]);
      expect(all[1]).toEqual({
        id: first,
        at: 1000,
        actor: "github:octocat",
        action: "analyze",
        subject: "service:checkout",
        source: "github",
        chat: "https://github.com/acme/shop/pull/7",
        details: {},
      });
      expect((await listAudit(sql, { subject: "p1" }))[0]?.details).toEqual({ button: "approve" });
      await expect(appendAudit(sql, { actor: "", action: "x", source: "cli" })).rejects.toThrow(/actor/);
    });

    it("proposals round-trip whole, and their evidence is searchable", async () => {
      await saveProposal(sql, proposal("p1"), 100);
      await saveProposal(sql, proposal("p2", { service: "cart", evidence: [] }), 200);
      expect(await getProposal(sql, "p1")).toEqual(proposal("p1"));
      expect(await getProposal(sql, "nope")).toBeUndefined();
      expect((await listProposals(sql)).map((p) => p.id)).toEqual(["p2", "p1"]);
      expect((await listProposals(sql, { service: "checkout" })).map((p) => p.id)).toEqual(["p1"]);
      expect(await proposalsCiting(sql, "capsule", `${"a".repeat(64)}:1767607200000`)).toEqual(["p1"]);

      // Saving again replaces the evidence rather than appending to it.
      await saveProposal(sql, proposal("p1", { evidence: [{ kind: "trace", ref: "t1" }] }), 300);
      expect(await proposalsCiting(sql, "capsule", `${"a".repeat(64)}:1767607200000`)).toEqual([]);
      expect(await proposalsCiting(sql, "trace", "t1")).toEqual(["p1"]);
    });

    it("proposal status changes are stored in the row and in the document", async () => {
      expect(await setProposalStatus(sql, "p1", "approved")).toBe(true);
      expect(await setProposalStatus(sql, "missing", "approved")).toBe(false);
      expect((await getProposal(sql, "p1"))?.status).toBe("approved");
      expect((await listProposals(sql, { status: "approved" })).map((p) => p.id)).toEqual(["p1"]);
    });

    it("lists summaries in the same order as the proposals, with the status of the latest decision", async () => {
      const summaries = await listProposalSummaries(sql);
      expect(summaries).toEqual((await listProposals(sql)).map((p) => ProposalSummary.parse(p)));
      expect(summaries.find((s) => s.id === "p1")).toEqual({
        id: "p1",
        service: "checkout",
        journey: "api-gateway POST /api/checkout",
        sli: { id: "p1-sli", kind: "availability", source: "metrics" },
        target: { recommended: 99.9, errorBudget: 0.001 },
        window: "28d",
        backtest: { attainment: 0.9995, days: 28 },
        confidence: { score: 0.8 },
        status: "approved",
      });
      expect((await listProposalSummaries(sql, { service: "cart", limit: 1 })).map((s) => s.id)).toEqual([
        "p2",
      ]);
      // A row stored before summaries were kept is summarised from its document.
      await sql.query("UPDATE proposals SET summary = NULL WHERE id = 'p2'");
      expect((await listProposalSummaries(sql, { service: "cart" }))[0]).toEqual(
        ProposalSummary.parse(await getProposal(sql, "p2")),
      );
    });

    it("rejects a malformed proposal without writing it", async () => {
      const bad = { ...proposal("p3"), target: { recommended: "high" } } as unknown as Proposal;
      await expect(saveProposal(sql, bad)).rejects.toThrow();
      expect(await getProposal(sql, "p3")).toBeUndefined();
    });

    it("artifacts of a proposal replace earlier ones at the same path", async () => {
      const art = (content: string): Artifact => ({
        kind: "alert-rules",
        path: "monitoring/checkout/alerts.yml",
        content,
        service: "checkout",
        sloId: "s1",
        validation: { ok: true, messages: [] },
      });
      await saveArtifacts(sql, "p1", [
        art("v1"),
        { kind: "runbook", path: "runbooks/checkout.md", content: "# rb", service: "checkout" },
      ]);
      await saveArtifacts(sql, "p1", [art("v2")]);
      const rows = await listArtifacts(sql, "p1");
      expect(rows).toEqual([
        art("v2"),
        { kind: "runbook", path: "runbooks/checkout.md", content: "# rb", service: "checkout" },
      ]);
    });

    it("services widen their seen range and merge signals", async () => {
      await touchService(sql, "checkout", 5000, ["span"]);
      await touchService(sql, "checkout", 3000, ["log", "span"]);
      await touchService(sql, "checkout", 9000);
      await touchService(sql, "cart", 1, ["metric"]);
      expect(await getService(sql, "checkout")).toEqual({
        name: "checkout",
        firstSeen: 3000,
        lastSeen: 9000,
        signals: ["log", "span"],
      });
      expect((await listServices(sql)).map((s) => s.name)).toEqual(["cart", "checkout"]);
      expect(await getService(sql, "nope")).toBeUndefined();
    });

    it("journeys of a service are replaced by the latest discovery, best first", async () => {
      await replaceJourneys(sql, "api-gateway", [journey("a", 0.2), journey("b", 0.9)]);
      await replaceJourneys(sql, "api-gateway", [journey("b", 0.7), journey("c", 0.8)]);
      expect((await listJourneys(sql, "api-gateway")).map((j) => j.key)).toEqual(["c", "b"]);
      await expect(replaceJourneys(sql, "cart", [journey("d", 1)])).rejects.toThrow(/belongs to api-gateway/);
    });

    it("SLOs are saved by id", async () => {
      const slo: Slo = {
        id: "checkout-availability",
        service: "checkout",
        name: "availability",
        objective: 99.9,
        period: "28d",
        sli: { raw: { errorRatioQuery: "x" } },
        labels: {},
        alerting: {
          labels: {},
          annotations: {},
          page: { disable: false, labels: {}, annotations: {} },
          ticket: { disable: false, labels: {}, annotations: {} },
        },
      };
      await saveSlo(sql, slo);
      await saveSlo(sql, { ...slo, objective: 99.5 });
      expect(await listSlos(sql, "checkout")).toEqual([{ ...slo, objective: 99.5 }]);
    });

    it("stream state: template trees, forward-only watermarks and offsets", async () => {
      expect(await loadFingerprintState(sql, "checkout")).toBeUndefined();
      await saveFingerprintState(sql, "checkout", { clusters: [{ id: 1, tokens: ["a", "<*>"] }] });
      await saveFingerprintState(sql, "checkout", { clusters: [{ id: 1, tokens: ["b"] }] });
      expect(await loadFingerprintState(sql, "checkout")).toEqual({ clusters: [{ id: 1, tokens: ["b"] }] });
      expect([...(await loadAllFingerprintStates(sql)).keys()]).toEqual(["checkout"]);

      await saveWatermark(sql, "capsules", "checkout", 5000);
      await saveWatermark(sql, "capsules", "checkout", 4000);
      expect(await loadWatermarks(sql, "capsules")).toEqual(new Map([["checkout", 5000]]));

      await commitOffsets(sql, "g", [
        { topic: "raw-telemetry", partition: 0, nextOffset: 10 },
        { topic: "raw-telemetry", partition: 1, nextOffset: 3 },
      ]);
      await commitOffsets(sql, "g", [{ topic: "raw-telemetry", partition: 0, nextOffset: 7 }]);
      expect(await loadOffsets(sql, "g", "raw-telemetry")).toEqual([
        { topic: "raw-telemetry", partition: 0, nextOffset: 10 },
        { topic: "raw-telemetry", partition: 1, nextOffset: 3 },
      ]);
      await resetOffsets(sql, "g");
      expect(await loadOffsets(sql, "g")).toEqual([]);
    });

    it("offsets written in a failed transaction are not kept with half the window state", async () => {
      await expect(
        sql.transaction(async (tx) => {
          await commitOffsets(tx, "g2", [{ topic: "capsule-events", partition: 0, nextOffset: 42 }]);
          await saveWatermark(tx, "capsules", "cart", 1);
          throw new Error("crash before commit");
        }),
      ).rejects.toThrow("crash before commit");
      expect(await loadOffsets(sql, "g2")).toEqual([]);
      expect((await loadWatermarks(sql, "capsules")).has("cart")).toBe(false);
    });
  });
}
