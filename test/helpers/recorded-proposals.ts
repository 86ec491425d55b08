import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Proposal } from "../../src/core/proposal.js";
import type { Sql } from "../../src/store/ports.js";
import { saveProposal } from "../../src/store/repos/proposals.js";
import { ROOT } from "../generators/helpers.js";

/**
 * The proposals `analyze checkout` recorded on the demo shop (test/fixtures/analysis/demo-checkout.json):
 * what the chat tests approve, reject and list, without running an analysis.
 */
export const recordedProposals: Proposal[] = (
  JSON.parse(readFileSync(join(ROOT, "test/fixtures/analysis/demo-checkout.json"), "utf8")) as {
    proposals: unknown[];
  }
).proposals.map((p) => Proposal.parse(p));

export const availability = recordedProposals.find((p) => p.name === "checkout POST /checkout availability")!;
export const latency = recordedProposals.find((p) => p.name === "checkout POST /checkout latency")!;

/** Stores these proposals as open ones, as the analysis left them (again open when a test approved them). */
export async function openProposals(sql: Sql, proposals: Proposal[] = recordedProposals): Promise<void> {
  for (const p of proposals) await saveProposal(sql, { ...p, status: "proposed" });
}

/** Files every approval of checkout commits, whatever the host. */
export const CHECKOUT_ARTIFACTS = [
  "slos/checkout.yml",
  "rules/checkout.rules.yml",
  "rules/checkout.rules.test.yml",
  "dashboards/checkout.json",
];
