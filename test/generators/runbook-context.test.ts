import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Journey } from "../../src/core/journey.js";
import { Proposal } from "../../src/core/proposal.js";
import { buildDocArtifacts } from "../../src/generators/artifacts.js";
import { generateAll } from "../../src/generators/generate.js";
import { journeyPath } from "../../src/generators/runbook.js";
import { runbookContexts } from "../../src/generators/runbook-context.js";
import { specFromProposals } from "../../src/generators/spec/from-proposals.js";
import { loadSpecs } from "../../src/generators/spec/index.js";
import { runbookErrors } from "../../src/generators/validate/runbook.js";
import { ROOT } from "./helpers.js";

const recorded = JSON.parse(
  readFileSync(join(ROOT, "test/fixtures/analysis/demo-checkout.json"), "utf8"),
) as { journeys: Journey[]; proposals: unknown[] };
const proposals = recorded.proposals.map((p) => Proposal.parse(p)).slice(0, 2);
const availability = proposals[0]!;

describe("runbooks with what analysis knew", () => {
  const spec = specFromProposals("checkout", proposals);
  const { slos } = loadSpecs(spec.content, spec.path, { defaultPeriod: "28d" });
  const contexts = runbookContexts(proposals, recorded.journeys, {
    dashboardUrl: "https://grafana.example.com/d/{service}",
  });
  const runbooks = buildDocArtifacts(generateAll(slos), contexts).filter((a) => a.kind === "runbook");
  const text = runbooks.find((r) => r.sloId === "checkout-post-checkout-availability")!.content;

  it("keys a context by the SLO id the spec gives each proposal", () => {
    expect(Object.keys(contexts).sort()).toEqual(
      ["checkout-post-checkout-availability", "checkout-post-checkout-latency"].sort(),
    );
    expect(runbooks).toHaveLength(2);
  });

  it("walks the journey from its entry service, level by level", () => {
    const j = recorded.journeys.find((x) => x.key === "checkout POST /checkout")!;
    const path = journeyPath(j);
    expect(path[0]).toEqual(["checkout"]);
    expect(path[1]).toEqual(expect.arrayContaining(["cart", "inventory", "payment"]));
    expect(text).toContain("## The journey");
    expect(text).toContain(`\`checkout POST /checkout\` goes through: checkout → ${path[1]!.join(", ")}`);
  });

  it("lists the error fingerprints, budget consumers and example traces of the evidence", () => {
    expect(text).toMatch(
      /- checkout: `level=error msg="payment failed" order_id=<\*>.*` — 339 events \(capsule `898b86dc/,
    );
    expect(text).toContain("## Where the budget went before");
    expect(text).toContain("- 2026-11-19T13:00Z to 2026-11-19T16:00Z: top budget consumer #1");
    for (const t of availability.evidence.filter((e) => e.kind === "trace"))
      expect(text).toContain(`\`${t.ref}\``);
    expect(text).toContain("Dashboard: https://grafana.example.com/d/checkout");
  });

  it("keeps the burn-rate table and passes the runbook validator", () => {
    expect(text).toContain("| page | 1h | 5m | 13.44x |");
    for (const r of runbooks) expect(runbookErrors(r.content, r.path)).toEqual([]);
  });
});
