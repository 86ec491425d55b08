import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { AnalysisResult } from "../../../src/analysis/analyze.js";
import type { Simulation } from "../../../src/analysis/simulate.js";
import { helpText } from "../../../src/app/command-language.js";
import type { Refusal } from "../../../src/app/outcome.js";
import {
  analysisView,
  type ChangeInput,
  changeView,
  chatCommands,
  helpView,
  proposalsView,
  refusalView,
  simulationView,
  type ViewModel,
} from "../../../src/app/view-model.js";
import { type Block, LIMITS, renderBlocks, renderReply } from "../../../src/bot/slack/blocks.js";
import type { Proposal } from "../../../src/core/proposal.js";

/**
 * The Block Kit replies, built from the same recorded view-models as the Markdown ones: every message
 * stays inside Slack's limits, buttons carry only the proposal id, and text from telemetry cannot mention
 * a channel or forge a link.
 */

const fixture = <T>(name: string): T =>
  JSON.parse(readFileSync(new URL(`../../fixtures/render/${name}`, import.meta.url), "utf8")) as T;

const analysis = fixture<AnalysisResult>("analysis.json");
const simulation = fixture<{ proposal: Proposal; simulation: Simulation }>("simulation.json");
const change = fixture<ChangeInput>("change.json");
const refusal = fixture<Refusal & { correlationId: string }>("refusal.json");
const chat = { commands: chatCommands() };

const views: Record<string, ViewModel> = {
  analysis: analysisView(analysis, chat),
  change: changeView(change, chat),
  refusal: refusalView(refusal, chat),
  simulation: simulationView(
    {
      ...simulation,
      simulation: { ...simulation.simulation, target: simulation.proposal.target.recommended },
    },
    chat,
  ),
  proposals: proposalsView(analysis.proposals, { ...chat, service: "checkout" }),
  help: helpView(helpText(), chat),
};

function checkLimits(blocks: Block[]) {
  expect(blocks.length).toBeLessThanOrEqual(LIMITS.blocks);
  const shown = [...JSON.stringify(blocks).matchAll(/"text":"((?:[^"\\]|\\.)*)"/g)].reduce(
    (n, m) => n + JSON.parse(`"${m[1]}"`).length,
    0,
  );
  expect(shown).toBeLessThanOrEqual(LIMITS.totalText);
  for (const b of blocks) {
    if (b.type === "section") {
      if (b.text) expect(b.text.text.length).toBeLessThanOrEqual(LIMITS.sectionText);
      for (const f of b.fields ?? []) expect(f.text.length).toBeLessThanOrEqual(LIMITS.fieldText);
      expect((b.fields ?? []).length).toBeLessThanOrEqual(LIMITS.fields);
    }
    if (b.type === "header") expect(b.text.text.length).toBeLessThanOrEqual(LIMITS.headerText);
    if (b.type === "context") expect(b.elements.length).toBeLessThanOrEqual(LIMITS.contextElements);
  }
}

describe("Block Kit rendering", () => {
  for (const [kind, view] of Object.entries(views)) {
    it(`keeps the ${kind} reply inside Slack's limits`, () => {
      const message = renderBlocks(view);
      expect(message.text.length).toBeGreaterThan(0);
      checkLimits(message.blocks);
    });
  }

  it("shows each open proposal of an analysis with Approve, Simulate and Reject carrying only its id", () => {
    const { blocks } = renderBlocks(views.analysis!);
    const actions = blocks.filter((b) => b.type === "actions");
    const open = analysis.proposals.filter((p) => p.status === "proposed");
    expect(actions).toHaveLength(open.length);
    for (const [i, a] of actions.entries()) {
      if (a.type !== "actions") continue;
      expect(a.block_id).toBe(`proposal:${open[i]!.id}`);
      expect(a.elements.map((e) => ("action_id" in e ? e.action_id : ""))).toEqual([
        "slo_approve",
        "slo_simulate",
        "slo_reject",
      ]);
      for (const e of a.elements) expect("value" in e && e.value).toBe(open[i]!.id);
    }
    const text = JSON.stringify(blocks);
    expect(text).toContain("recommended *99%*");
    expect(text).toContain("confidence 73%");
    expect(text).toContain("/slo-scout approve");
  });

  it("offers no buttons for decided proposals", () => {
    const decided = analysis.proposals.map((p) => ({ ...p, status: "committed" as const }));
    const { blocks } = renderBlocks(proposalsView(decided, chat));
    expect(blocks.some((b) => b.type === "actions")).toBe(false);
    expect(JSON.stringify(blocks)).toContain("Status: *committed*");
  });

  it("keeps a reply of many proposals to 50 blocks and says what was left out", () => {
    const many = Array.from({ length: 40 }, (_, i) => ({
      ...analysis.proposals[0]!,
      id: `prop-${String(i).padStart(12, "0")}`,
    }));
    const message = renderReply([proposalsView(many, chat), proposalsView(many, chat)]);
    checkLimits(message.blocks);
    expect(JSON.stringify(message.blocks)).toMatch(/more blocks? did not fit|…and \d+ more/);
  });

  it("escapes mentions and links that come from telemetry", () => {
    const hostile = {
      ...analysis,
      service: "<!channel> <https://evil.example|click>",
      journeys: analysis.journeys.map((j) => ({ ...j, key: "<@U123> & <!here>" })),
    };
    const message = renderBlocks(analysisView(hostile, chat));
    // Slack reads mentions and links in mrkdwn text and in the fallback text; plain_text shows them as typed.
    const mrkdwn = [
      message.text,
      ...JSON.stringify(message.blocks).matchAll(/"type":"mrkdwn","text":"((?:[^"\\]|\\.)*)"/g),
    ].map((m) => (typeof m === "string" ? m : m[1]!));
    const all = mrkdwn.join("\n");
    expect(all).toContain("&lt;!channel&gt;");
    for (const forbidden of ["<!channel>", "<!here>", "<@U123>", "<https://evil"])
      expect(all).not.toContain(forbidden);
  });

  it("names the correlation id of a failure", () => {
    const message = renderBlocks(views.refusal!);
    expect(JSON.stringify(message.blocks)).toContain(refusal.correlationId);
    expect(message.text).toContain(refusal.correlationId);
  });

  it("links the change when it has a web address", () => {
    const hosted = changeView(
      {
        ...change,
        change: { ...change.change, url: "https://gitlab.example.com/acme/shop/-/merge_requests/7" },
      },
      chat,
    );
    expect(JSON.stringify(renderBlocks(hosted).blocks)).toContain(
      "<https://gitlab.example.com/acme/shop/-/merge_requests/7|slo-scout/checkout>",
    );
  });
});
