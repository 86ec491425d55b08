import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import type { Mermaid } from "mermaid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AnalysisResult } from "../../src/analysis/analyze.js";
import type { Simulation } from "../../src/analysis/simulate.js";
import { helpText, parseCommand } from "../../src/app/command-language.js";
import type { Refusal } from "../../src/app/outcome.js";
import { COMMENT_LIMIT, renderMarkdown } from "../../src/app/render-markdown.js";
import {
  analysisView,
  type ChangeInput,
  changeView,
  chatCommands,
  cliCommands,
  helpView,
  proposalsView,
  refusalView,
  type StatusInput,
  simulationView,
  statusView,
} from "../../src/app/view-model.js";
import type { Journey } from "../../src/core/journey.js";
import type { Proposal } from "../../src/core/proposal.js";

/**
 * The Markdown replies, pinned as files under test/fixtures/render/ and built from what the use cases
 * returned on the demo shop (recorded by record-render-fixtures.ts). Every mermaid block is parsed by
 * mermaid itself, and hostile names (quotes, brackets, backticks, pipes, HTML, mentions) must come out
 * as valid Markdown and valid mermaid.
 */

const fixture = <T>(name: string): T =>
  JSON.parse(readFileSync(new URL(`../fixtures/render/${name}`, import.meta.url), "utf8")) as T;

const analysis = fixture<AnalysisResult>("analysis.json");
const simulation = fixture<{ proposal: Proposal; simulation: Simulation }>("simulation.json");
const change = fixture<ChangeInput>("change.json");
const refusal = fixture<Refusal & { correlationId: string }>("refusal.json");

const chat = { commands: chatCommands() };
const cli = { commands: cliCommands() };

/** The proposals list after the change: the approved ones committed, the rest still open. */
const afterApproval: Proposal[] = analysis.proposals.map((p) =>
  change.proposals.some((a) => a.id === p.id) ? { ...p, status: "committed" } : p,
);

/** The commands of the "Next" section, as the reader would copy them. */
const commandsIn = (markdown: string) => [...markdown.matchAll(/^```text\n(.*)\n```$/gm)].map((m) => m[1]!);

const mermaidBlocks = (markdown: string) =>
  [...markdown.matchAll(/^```mermaid\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);

let mermaid: Mermaid;
let dom: { happyDOM: { close(): Promise<void> } };

beforeAll(async () => {
  // mermaid runs every label through DOMPurify, which needs a DOM; Node has none, so happy-dom lends one
  // to this file only (before mermaid is imported, because DOMPurify looks for it at load).
  const { Window } = await import("happy-dom");
  dom = new Window();
  Object.assign(globalThis, { window: dom });
  mermaid = (await import("mermaid")).default;
  mermaid.initialize({ startOnLoad: false });
});

afterAll(async () => {
  await dom?.happyDOM.close();
  Reflect.deleteProperty(globalThis, "window");
});

/** Parses with mermaid's own grammar; throws with mermaid's message on a syntax error. */
async function parseAll(markdown: string): Promise<string[]> {
  const types: string[] = [];
  for (const block of mermaidBlocks(markdown)) {
    const result = await mermaid.parse(block, { suppressErrors: false });
    if (!result) throw new Error(`mermaid refused:\n${block}`);
    types.push(result.diagramType);
  }
  return types;
}

/** What `status` reports after the demo's analysis and approval (the shape of src/app/status.ts). */
const demoStatus: StatusInput = {
  services: ["api-gateway", "checkout", "frontend", "payment"].map((name) => ({
    name,
    signals: ["span", "metric", "log"],
    lastSeen: Date.UTC(2026, 10, 23),
    historyDays: 8,
    journeys: analysis.journeys.filter((j) => j.service === name).length,
    proposals: name === "checkout" ? { committed: 2, proposed: 7 } : {},
  })),
};

const rendered = {
  analysis: () => renderMarkdown(analysisView(analysis, chat)),
  change: () => renderMarkdown(changeView(change, chat)),
  refusal: () => renderMarkdown(refusalView(refusal, cli)),
  simulation: () => renderMarkdown(simulationView(simulation, chat)),
  proposals: () => renderMarkdown(proposalsView(afterApproval, { ...chat, service: "checkout" })),
  status: () => renderMarkdown(statusView(demoStatus, chat)),
  help: () => renderMarkdown(helpView(helpText(), cli)),
};

describe("renderMarkdown on the demo shop", () => {
  for (const [kind, render] of Object.entries(rendered)) {
    it(`${kind} matches its snapshot`, async () => {
      await expect(render()).toMatchFileSnapshot(`../fixtures/render/${kind}.md`);
    });
  }

  it("puts the summary first: proposals with their three targets, budget and confidence, then journeys", () => {
    const md = rendered.analysis();
    const order = [
      "### Proposals",
      "### Journeys",
      "### Journey graph",
      "### Error budget",
      "### Details",
      "### Next",
    ];
    const at = order.map((h) => md.indexOf(h));
    expect(at.every((i) => i > 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    const top = analysis.proposals[0]!;
    const row = md.split("\n").find((l) => l.startsWith("| #1 |"))!;
    expect(row).toContain(`\`${top.id}\``);
    expect(row).toContain(`**${top.target.recommended}%**`);
    expect(row).toMatch(/\| 1% · about [\d,]+ bad events per 28d \|/);
    expect(row).toMatch(/\| \d+% \|$/);
  });

  it("says what each chart shows: the backtest in an analysis, the budget over time in a simulation", () => {
    expect(rendered.analysis()).toMatch(
      /title "Backtest over 8–28 days of history: error budget used by the worst 28d window at the recommended target"/,
    );
    const sim = rendered.simulation();
    expect(sim).toMatch(
      /title "Error budget remaining at 99\.9% over a trailing 28d window, 2026-11-\d\d \d\d:\d\dZ to/,
    );
    expect(sim).toContain('x-axis "days" 0 -->');
  });

  it("ends every reply with the exact command to copy", () => {
    const top = analysis.proposals[0]!;
    expect(rendered.analysis()).toContain(`\`\`\`text\n/slo-scout approve ${top.id}\n\`\`\``);
    expect(rendered.analysis()).toContain("```text\n/slo-scout approve all\n```");
    expect(rendered.simulation()).toContain(`/slo-scout approve ${simulation.proposal.id} --target 99.9`);
    expect(rendered.change()).toContain("```text\n/slo-scout proposals checkout\n```");
    expect(rendered.refusal()).toContain('```text\nslo-scout chat "help"\n```');
  });

  it("offers only commands the command language accepts", () => {
    const views = [
      analysisView(analysis, chat),
      changeView(change, chat),
      refusalView(refusal, chat),
      simulationView(simulation, chat),
      proposalsView(afterApproval, chat),
      statusView(demoStatus, chat),
      statusView({ services: [] }, chat),
      helpView(helpText(), chat),
    ];
    for (const view of views) {
      const commands = commandsIn(renderMarkdown(view));
      expect(commands).toEqual(view.next.map((n) => n.command));
      for (const c of commands) expect(parseCommand(c), c).toMatchObject({ ok: true });
    }
  });

  it("renders valid mermaid: a flowchart per journey shown and the budget charts", async () => {
    expect(await parseAll(rendered.analysis())).toEqual([
      "flowchart-v2",
      "flowchart-v2",
      "flowchart-v2",
      "xychart",
    ]);
    expect(await parseAll(rendered.simulation())).toEqual(["xychart"]);
  });

  it("a broken diagram does not pass the parser (the check is real)", async () => {
    await expect(
      mermaid.parse('flowchart LR\n  n1["a"b"] --> n2', { suppressErrors: false }),
    ).rejects.toThrow();
  });
});

// ─── hostile input ───────────────────────────────────────────────────────────────────────────────────

const HOSTILE = 'a"b] `x` | <script>alert(1)</script> @alice %%{init: {"theme":"dark"}}%% #1;';

function hostileAnalysis(): AnalysisResult {
  const rename = (s: string) => (s === "checkout" ? HOSTILE : s);
  const journeys: Journey[] = analysis.journeys.map((j) => ({
    ...j,
    key: `${rename(j.service)} POST /x|y`,
    service: rename(j.service),
    downstream: j.downstream.map((e) => ({ ...e, from: rename(e.from), to: rename(e.to), operation: "```" })),
  }));
  const proposals = analysis.proposals.map((p) => ({
    ...p,
    service: HOSTILE,
    name: `${HOSTILE} availability`,
    sli: {
      ...p.sli,
      promql: { ...p.sli.promql, errorRatio: 'sum(rate(x{l="```"}[{{.window}}]))\n```\n\n\n# not a heading' },
    },
    evidence: p.evidence.map((e) => ({ ...e, note: `deploy by @alice: ${HOSTILE}` })),
  }));
  return { ...analysis, service: HOSTILE, journeys, proposals };
}

/** Cells of a GFM table row: split on pipes that are not backslash-escaped. */
const cells = (row: string) => row.split(/(?<!\\)\|/).length - 2;

describe("escaping", () => {
  const md = renderMarkdown(analysisView(hostileAnalysis(), chat));

  it("keeps hostile service names valid in mermaid", async () => {
    const types = await parseAll(md);
    expect(types.filter((t) => t === "flowchart-v2").length).toBeGreaterThan(0);
    for (const block of mermaidBlocks(md)) {
      expect(block).not.toContain("%%");
      expect(block).not.toContain("`");
    }
  });

  it("keeps every table row at its header's width", () => {
    const lines = md.split("\n");
    let width: number | undefined;
    for (const [i, line] of lines.entries()) {
      if (!line.startsWith("|")) {
        width = undefined;
        continue;
      }
      width ??= cells(line);
      expect(cells(line), `line ${i + 1}: ${line}`).toBe(width);
    }
  });

  it("never lets a value close a code fence or open HTML, and never pings anyone", () => {
    // Outside fenced blocks and code spans (whatever their fence length), no tag and no mention survive.
    const prose = md
      .replace(/^(`{3,})[^\n]*\n[\s\S]*?^\1$/gm, "")
      .replace(/(`+)(?!`)[\s\S]*?(?<!`)\1(?!`)/g, "")
      .replace(/<code>.*?<\/code>/g, "");
    expect(prose).toContain("\\<script\\>");
    expect(prose).not.toMatch(/<script>/);
    expect(prose).not.toMatch(/@alice/);
    // The query is shown verbatim inside a fence longer than its own backtick runs.
    expect(md).toContain('````promql\nsum(rate(x{l="```"}[{{.window}}]))\n```\n\n\n# not a heading\n````');
  });

  it("puts the service name in a code span that survives backticks", () => {
    expect(md.split("\n")[0]).toBe(`## SLO-Scout analysis of \`\`${HOSTILE}\`\``);
  });

  it("quotes arguments in copyable commands so the command language reads them back, in chats and the shell", () => {
    const refused = { code: "already-decided" as const, reason: "decided" };
    const next = {
      command: { verb: "reject" as const, proposalId: "prop-d565be666fc5", reason: `it's "$HOME" \\ \`x\`` },
      why: "reject it",
    };
    const [chatLine] = commandsIn(renderMarkdown(refusalView(refused, { ...chat, next })));
    expect(parseCommand(chatLine!)).toEqual({ ok: true, command: next.command });
    // The CLI line goes through a real shell: `slo-scout chat` stands in for printf, which prints its argument.
    const [cliLine] = commandsIn(renderMarkdown(refusalView(refused, { ...cli, next })));
    const viaShell = execFileSync("sh", ["-c", cliLine!.replace(/^slo-scout chat /, "printf %s ")], {
      encoding: "utf8",
    });
    expect(parseCommand(viaShell)).toEqual({ ok: true, command: next.command });
  });
});

describe("change links", () => {
  const withUrl = (url: string) =>
    renderMarkdown(changeView({ ...change, change: { ...change.change, url } }, chat));

  it("links a pull request and shows anything else as code", () => {
    expect(withUrl("https://github.com/shop/ops/pull/7")).toContain(
      ": [review the change](<https://github.com/shop/ops/pull/7>).",
    );
    expect(withUrl("https://x.test/a b)<img>")).toContain(": `https://x.test/a b)<img>`.");
  });
});

describe("size", () => {
  it("stays under GitHub's comment limit however much there is, saying what was left out", async () => {
    const long = "x".repeat(100_000);
    const base = analysis.proposals[0]!;
    const huge: AnalysisResult = {
      ...analysis,
      journeys: Array.from({ length: 300 }, (_, i) => ({
        ...analysis.journeys[0]!,
        key: `${long}-${i}`,
        downstream: Array.from({ length: 200 }, (_, k) => ({
          ...analysis.journeys[0]!.downstream[0]!,
          from: `svc-${k}-${long}`,
          to: `svc-${k + 1}-${long}`,
        })),
      })),
      proposals: Array.from({ length: 500 }, (_, i) => ({
        ...base,
        id: `prop-${i}`,
        name: long,
        sli: { ...base.sli, promql: { errorRatio: long, good: long, total: long } },
        evidence: Array.from({ length: 100 }, () => ({ kind: "log" as const, ref: long, note: long })),
        warnings: Array.from({ length: 100 }, () => long),
      })),
      warnings: Array.from({ length: 100 }, () => long),
    };
    const md = renderMarkdown(analysisView(huge, chat));
    expect(md.length).toBeLessThanOrEqual(COMMENT_LIMIT);
    expect(md).toContain("… 488 more proposals.");
    expect(md).toMatch(/Details of \d+ proposals were left out/);
    expect(md).toContain("… 170 more service pairs not drawn.");
    await parseAll(md);
  });

  it("drops the collapsed blocks last, when even the graphs are too big (labels of escaped characters)", async () => {
    const quotes = (k: number) => `${k}${'"'.repeat(119)}`;
    const journey = analysis.journeys[0]!;
    const wide: AnalysisResult = {
      ...analysis,
      journeys: Array.from({ length: 4 }, (_, i) => ({
        ...journey,
        key: `journey ${i}`,
        downstream: Array.from({ length: 30 }, (_, k) => ({
          ...journey.downstream[0]!,
          from: quotes(k),
          to: quotes(k + 1),
        })),
      })),
    };
    const md = renderMarkdown(analysisView(wide, chat));
    expect(md.length).toBeLessThanOrEqual(COMMENT_LIMIT);
    expect(md).not.toContain("more journey graphs");
    expect(md).toContain(`Details of ${analysis.proposals.length} proposals were left out`);
    expect(await parseAll(md)).toEqual(["flowchart-v2", "xychart"]);
  });
});
