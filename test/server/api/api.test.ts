import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import SwaggerParser from "@apidevtools/swagger-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Journey } from "../../../src/core/journey.js";
import { Proposal } from "../../../src/core/proposal.js";
import { OPERATIONS } from "../../../src/server/api/operations.js";
import { saveProposal } from "../../../src/store/repos/proposals.js";
import { upsertJourneys } from "../../../src/store/repos/services.js";
import { storeSmallDemo } from "../../helpers/demo-store.js";
import { type ApiHarness, startApi, tokenFor } from "./harness.js";

/**
 * The REST API walked as a client would: the document, auth on real operations, then analyse → list →
 * amend → simulate → approve → see the change. Three days of the small demo shop (capsules, services,
 * too little history for an analysis) plus the journeys and proposals `analyze checkout` recorded from
 * its eight days (test/fixtures/analysis/demo-checkout.json), so the test stays fast on a busy machine.
 */

const recorded = JSON.parse(
  readFileSync(new URL("../../fixtures/analysis/demo-checkout.json", import.meta.url), "utf8"),
) as { journeys: unknown[]; proposals: unknown[] };

describe("/api/v1", { timeout: 240_000 }, () => {
  let h: ApiHarness;
  let blobs: string;
  let read: { authorization: string };
  let approver: { authorization: string };
  beforeAll(async () => {
    h = await startApi();
    blobs = mkdtempSync(join(tmpdir(), "slo-scout-api-blobs-"));
    await storeSmallDemo(h.app.sql, blobs, 3);
    await upsertJourneys(
      h.app.sql,
      recorded.journeys.map((j) => Journey.parse(j)),
    );
    for (const p of recorded.proposals) await saveProposal(h.app.sql, Proposal.parse(p));
    read = await tokenFor("read", "reader");
    approver = await tokenFor("approve", "alice");
  }, 240_000);
  afterAll(async () => {
    await h?.close();
    rmSync(blobs, { recursive: true, force: true });
  });
  const call = (
    method: "GET" | "POST" | "PATCH",
    url: string,
    headers: Record<string, string>,
    payload?: unknown,
  ) =>
    h.server.inject({
      method,
      url: `/api/v1${url}`,
      headers,
      ...(payload !== undefined ? { payload: payload as object } : {}),
    });

  it("serves an OpenAPI 3.1 document a validator accepts, with every operation", async () => {
    const res = await h.server.inject({ method: "GET", url: "/api/v1/openapi.json" });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toBe("3.1.0");
    await SwaggerParser.validate(structuredClone(doc));
    const ids = Object.values(doc.paths as Record<string, Record<string, { operationId: string }>>).flatMap(
      (p) => Object.values(p).map((o) => o.operationId),
    );
    expect(ids.sort()).toEqual(OPERATIONS.map((o) => o.id).sort());
    expect(doc.components.schemas.Proposal.properties.confidence).toEqual({
      $ref: "#/components/schemas/Confidence",
    });
  });

  it("401 without a token, 403 for a read-only token on approve, in the uniform error body", async () => {
    const none = await call("GET", "/proposals", {});
    expect(none.statusCode).toBe(401);
    expect(none.json()).toEqual({ error: { code: "unauthorized", message: expect.any(String) } });
    const denied = await call("POST", "/proposals/prop-000000000000/approve", read, {});
    expect(denied.statusCode).toBe(403);
    expect(denied.json().error.code).toBe("forbidden");
    const chat = await call("POST", "/conversations", read, { text: "approve all" });
    expect(chat.statusCode).toBe(403);
    expect((await call("POST", "/conversations", read, { text: "status" })).statusCode).toBe(200);
  });

  it("answers bad input with 400 and unknown ids with 404, naming the problem", async () => {
    const bad = await call("POST", "/analyses", approver, { service: "checkout", window: "forever" });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toMatch(/window/);
    const extra = await call("PATCH", "/proposals/prop-000000000000", approver, { target: 99, owner: "x" });
    expect(extra.statusCode).toBe(400);
    const missing = await call("GET", "/proposals/prop-000000000000", read);
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error).toEqual({
      code: "unknown_id",
      message: expect.stringMatching(/no proposal/),
    });
    expect((await call("POST", "/analyses", approver, { service: "nope" })).statusCode).toBe(404);
    expect((await call("GET", "/proposals?cursor=xyz", read)).json().error.code).toBe("bad_cursor");
  });

  it("runs an analysis as a job: 202, then its outcome (here refused: three days of history)", async () => {
    const started = await call("POST", "/analyses", approver, { service: "checkout" });
    expect(started.statusCode).toBe(202);
    expect(started.json()).toMatchObject({ service: "checkout", status: "queued" });
    const { id } = started.json();
    let job = started.json();
    for (let i = 0; i < 1200 && (job.status === "queued" || job.status === "running"); i++) {
      await new Promise((r) => setTimeout(r, 100));
      job = (await call("GET", `/analyses/${id}`, read)).json();
    }
    expect(job).toMatchObject({
      status: "refused",
      refusal: { code: "not-enough-history", reason: expect.stringMatching(/history/) },
    });
  });

  it("lists with cursors, amends, simulates, approves and lists the change", async () => {
    const analysed = recorded.proposals.map((p) => Proposal.parse(p));
    const services = (await call("GET", "/services", read)).json();
    expect(services.items.map((s: { name: string }) => s.name)).toContain("checkout");
    const journeys = (await call("GET", "/services/checkout/journeys", read)).json();
    expect(journeys.items.map((j: { key: string }) => j.key)).toContain("checkout POST /checkout");

    const first = (await call("GET", "/proposals?service=checkout&limit=1", read)).json();
    expect(first.items).toHaveLength(1);
    const second = (
      await call("GET", `/proposals?service=checkout&limit=1&cursor=${first.nextCursor}`, read)
    ).json();
    expect(second.items[0].id).not.toBe(first.items[0].id);
    const all = (await call("GET", "/proposals?service=checkout&limit=500", read)).json();
    expect(all.nextCursor).toBeUndefined();
    expect(all.items.map((p: { id: string }) => p.id).sort()).toEqual(analysed.map((p) => p.id).sort());
    // A list carries summaries; the whole proposal (ladder, confidence parts, evidence) is at links.self.
    const [summary] = all.items;
    expect(summary).not.toHaveProperty("evidence");
    expect(summary.backtest).not.toHaveProperty("ladder");
    expect(summary.links).toEqual({
      self: `/api/v1/proposals/${summary.id}`,
      html: `/proposals/${summary.id}`,
    });
    const whole = await h.server.inject({ method: "GET", url: summary.links.self, headers: read });
    expect(whole.json()).toEqual(analysed.find((p) => p.id === summary.id));
    expect(whole.json()).toMatchObject({
      target: summary.target,
      confidence: { score: summary.confidence.score },
    });

    const availability = analysed.find((p) => /availability/.test(p.name ?? ""))!;
    const other = analysed.find((p) => p.id !== availability.id)!;
    const amended = await call("PATCH", `/proposals/${availability.id}`, approver, {
      target: 99,
      note: "agreed with the team",
    });
    expect(amended.statusCode).toBe(200);
    expect(amended.json()).toMatchObject({
      target: { recommended: 99, errorBudget: expect.closeTo(0.01, 9) },
      note: "agreed with the team",
    });

    const sim = await call("POST", `/proposals/${availability.id}/simulate`, read, { target: 99.5 });
    expect(sim.statusCode).toBe(422);
    expect(sim.json().error).toMatchObject({
      code: "not_enough_history",
      message: expect.stringMatching(/history/),
    });

    const approved = await call("POST", `/proposals/${availability.id}/approve`, approver, {});
    expect(approved.statusCode, approved.body).toBe(200);
    const [made] = approved.json().changes;
    expect(made.change.branch).toBe("slo-scout/checkout");
    expect(made.files).toContain("slos/checkout.yml");
    expect(made.proposals[0]).toMatchObject({ id: availability.id, status: "committed" });
    expect((await call("POST", `/proposals/${availability.id}/approve`, approver, {})).statusCode).toBe(409);

    const rejected = await call("POST", `/proposals/${other.id}/reject`, approver, { reason: "too noisy" });
    expect(rejected.json().status).toBe("rejected");

    const listed = (await call("GET", "/changes", read)).json();
    expect(listed.items).toEqual([
      expect.objectContaining({
        id: made.change.id,
        service: "checkout",
        by: "api:alice",
        proposals: [availability.id],
      }),
    ]);
    const held = await call("GET", `/changes/${made.change.id}`, read);
    expect(held.json()).toMatchObject({
      change: { branch: "slo-scout/checkout", files: expect.arrayContaining(["slos/checkout.yml"]) },
      approvals: [{ by: "api:alice" }],
    });
    expect((await call("GET", "/changes/999", read)).statusCode).toBe(404);
  });

  it("lists capsules with redacted samples and fingerprints lines", async () => {
    const page = (await call("GET", "/capsules?service=payment&limit=5", read)).json();
    expect(page.items.length).toBeGreaterThan(0);
    expect(page.items[0]).not.toHaveProperty("embedding");
    const one = await call("GET", `/capsules/${page.items[0].id}`, read);
    expect(one.json().fingerprint).toBe(page.items[0].fingerprint);
    const text = JSON.stringify(page.items);
    expect(text).not.toMatch(/[\w.+-]+@[\w-]+\.[\w.]+/);
    const fp = await call("POST", "/fingerprint", read, {
      lines: ["user 42 logged in from 10.0.0.1", "user 7 logged in from 10.0.0.2"],
    });
    const lines = fp.json().lines;
    expect(lines[0].fingerprint).toBe(lines[1].fingerprint);
    expect(lines[0].message).not.toContain("10.0.0.1");
  });
});
