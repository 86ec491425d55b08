import type { types } from "@slack/bolt";
import { num, pct, share, span } from "../../app/format.js";
import type {
  AnalysisView,
  ChangeView,
  HelpView,
  NextCommand,
  ProposalSummary,
  ProposalsView,
  RefusalView,
  SimulationView,
  StatusView,
  ViewModel,
} from "../../app/view-model.js";
import { code, cut, esc, link, mention } from "./mrkdwn.js";

/**
 * The same view-models the Markdown replies show, as Block Kit: a header, the summary, each open proposal
 * with its Approve / Simulate / Reject buttons (their `value` is only the proposal id; who clicked is
 * checked again when the click arrives), and the next command to copy. Slack cannot draw mermaid, so the
 * journey graph becomes its call list, and details stay in `/slo-scout` replies elsewhere.
 */

export type Block = types.KnownBlock;

export interface SlackMessage {
  /** The notification and screen-reader text; Slack shows it where blocks cannot be shown. */
  text: string;
  blocks: Block[];
}

/** Slack's Block Kit limits (docs.slack.dev, Block Kit reference) and a budget below the sum of them. */
export const LIMITS = {
  blocks: 50,
  sectionText: 3000,
  headerText: 150,
  fields: 10,
  fieldText: 2000,
  contextElements: 10,
  buttonText: 75,
  blockId: 255,
  fallbackText: 3000,
  /** Slack answers `msg_blocks_too_long` near 13k characters across blocks (slackapi/bolt-js#2509). */
  totalText: 11_000,
} as const;

export const ACTIONS = {
  approve: "slo_approve",
  simulate: "slo_simulate",
  reject: "slo_reject",
} as const;

/** The block holding a proposal's buttons; a click's `block_id` names the proposal it was shown with. */
export const proposalBlockId = (id: string) => `proposal:${id}`.slice(0, LIMITS.blockId);

const header = (text: string): Block => ({
  type: "header",
  text: { type: "plain_text", text: cut(text, LIMITS.headerText), emoji: true },
});
const section = (text: string): Block => ({
  type: "section",
  text: { type: "mrkdwn", text: cut(text, LIMITS.sectionText) },
});
const context = (...texts: string[]): Block => ({
  type: "context",
  elements: texts.slice(0, LIMITS.contextElements).map((t) => ({ type: "mrkdwn", text: cut(t, 2000) })),
});
const divider: Block = { type: "divider" };

/** Lines joined until the section is full; what did not fit (or was left out before) is counted. */
function list(title: string, lines: string[], more = 0, max = LIMITS.sectionText): string {
  const kept: string[] = [];
  let size = title.length + 40;
  for (const line of lines) {
    if (size + line.length + 1 > max) break;
    kept.push(line);
    size += line.length + 1;
  }
  const left = lines.length - kept.length + more;
  return [title, ...kept, ...(left > 0 ? [`…and ${num(left)} more`] : [])].filter(Boolean).join("\n");
}

function next(items: NextCommand[]): Block[] {
  if (items.length === 0) return [];
  return [context(...items.map((n) => `${code(n.command)} ${esc(n.why)}`))];
}

function targets(p: ProposalSummary): string {
  const parts = [`recommended *${pct(p.target.recommended)}*`];
  if (p.target.aspirational !== undefined) parts.push(`aspirational ${pct(p.target.aspirational)}`);
  if (p.target.safe !== undefined) parts.push(`safe ${pct(p.target.safe)}`);
  return parts.join(" · ");
}

function budget(p: ProposalSummary): string {
  const allowed =
    p.allowedBadPerWindow !== undefined
      ? ` · about ${num(p.allowedBadPerWindow)} bad ${Math.round(p.allowedBadPerWindow) === 1 ? "event" : "events"} per ${p.window}`
      : "";
  return `error budget ${share(p.target.errorBudget, 3)}${allowed}`;
}

function proposalText(p: ProposalSummary): string {
  return [
    `*#${p.n} ${esc(p.name)}* (${p.kind}) ${code(p.id)}`,
    `${targets(p)}; ${budget(p)}`,
    `confidence ${share(p.confidence, 0)} · ${pct(p.attainment)} good over ${num(p.historyDays, 1)} days of history`,
  ].join("\n");
}

function proposalButtons(p: ProposalSummary): Block {
  const value = p.id;
  return {
    type: "actions",
    block_id: proposalBlockId(p.id),
    elements: [
      {
        type: "button",
        action_id: ACTIONS.approve,
        style: "primary",
        value,
        text: { type: "plain_text", text: "Approve" },
        confirm: {
          title: { type: "plain_text", text: cut(`Approve #${p.n}?`, 100) },
          text: {
            type: "mrkdwn",
            text: cut(
              `Commits the validated SLO spec, rules, alerts, dashboard and runbook for ${esc(p.service)} at ${pct(p.target.recommended)} as one change.`,
              300,
            ),
          },
          confirm: { type: "plain_text", text: "Approve" },
          deny: { type: "plain_text", text: "Cancel" },
        },
      },
      { type: "button", action_id: ACTIONS.simulate, value, text: { type: "plain_text", text: "Simulate" } },
      {
        type: "button",
        action_id: ACTIONS.reject,
        style: "danger",
        value,
        text: { type: "plain_text", text: "Reject" },
      },
    ],
  };
}

/** A proposal with its buttons while it is open, with its decision once taken. */
function proposal(p: ProposalSummary): Block[] {
  return p.status === "proposed"
    ? [section(proposalText(p)), proposalButtons(p)]
    : [section(proposalText(p)), context(`Status: *${p.status}*`)];
}

function analysis(v: AnalysisView): SlackMessage {
  const journeys = v.journeys.items.map(
    (j) =>
      `• ${code(j.key)}: ${num(j.requests)} requests, ${share(j.trafficShare)} of ${esc(j.service)}'s traffic, ${share(j.errorShare)} errors${j.userFacing ? ", user-facing" : ""}`,
  );
  const blocks: Block[] = [
    header(`SLO-Scout analysis of ${v.service}`),
    section(
      `${num(v.journeys.total)} ${v.journeys.total === 1 ? "journey" : "journeys"} and ${num(v.proposals.total)} ${v.proposals.total === 1 ? "proposal" : "proposals"} for a ${v.window} SLO window, analysed over ${v.range.start} to ${v.range.end}.`,
    ),
  ];
  if (journeys.length > 0) blocks.push(section(list("*Journeys*", journeys, v.journeys.more)));
  if (v.graph) {
    const labels = new Map([
      [v.graph.entry.id, v.graph.entry.label],
      ...v.graph.nodes.map((n) => [n.id, n.label] as const),
    ]);
    const calls = v.graph.edges.map(
      (e) => `• ${esc(labels.get(e.from) ?? e.from)} → ${esc(labels.get(e.to) ?? e.to)}: ${esc(e.label)}`,
    );
    blocks.push(section(list(`*Calls on ${code(v.graph.title)}*`, calls, v.graph.more)));
  }
  blocks.push(divider);
  for (const p of v.proposals.items) blocks.push(...proposal(p));
  if (v.proposals.more > 0) blocks.push(context(`…and ${num(v.proposals.more)} more proposals`));
  const notes = [
    ...v.warnings.map((w) => `:warning: ${esc(w)}`),
    ...(v.skipped.total > 0 ? [`${num(v.skipped.total)} SLIs skipped (not enough data)`] : []),
    ...(v.recommendations.total > 0
      ? [`${num(v.recommendations.total)} instrumentation recommendations`]
      : []),
  ];
  if (notes.length > 0) blocks.push(context(...notes));
  blocks.push(...next(v.next));
  return {
    text: `SLO-Scout analysis of ${v.service}: ${v.proposals.total} proposals, ${v.journeys.total} journeys`,
    blocks,
  };
}

function proposals(v: ProposalsView): SlackMessage {
  const title = v.service ? `Proposals for ${v.service}` : "Proposals";
  const counts = Object.entries(v.counts)
    .map(([status, n]) => `${num(n ?? 0)} ${status}`)
    .join(", ");
  const blocks: Block[] = [header(title), section(counts ? `${counts}.` : "No proposals yet.")];
  // Two blocks per proposal: the list keeps room for the header, the summary and the next commands.
  const withButtons = v.proposals.items.slice(0, 20);
  for (const p of withButtons) blocks.push(...proposal(p));
  const left = v.proposals.items.length - withButtons.length + v.proposals.more;
  if (left > 0) blocks.push(context(`…and ${num(left)} more`));
  blocks.push(...next(v.next));
  return { text: `${title}: ${counts || "none"}`, blocks };
}

function change(v: ChangeView): SlackMessage {
  const files = v.files.items.map((f) => `• ${code(f.path)}${f.status ? ` ${f.status}` : ""}`);
  const approved = v.approved.items.map(
    (p) => `• #${p.n} ${esc(p.name)} at *${pct(p.target.recommended)}* ${code(p.id)}`,
  );
  const blast = [
    `*Services:* ${v.services.map(code).join(", ") || "none"}`,
    `*Journeys:* ${v.journeys.items.map(code).join(", ") || "none"}${v.journeys.more > 0 ? ` and ${num(v.journeys.more)} more` : ""}`,
    ...(v.dependents.length > 0 ? [`*Downstream dependents:* ${v.dependents.map(code).join(", ")}`] : []),
    `*Alerts:* ${v.alerts.added} added, ${v.alerts.changed} changed, ${v.alerts.removed} removed, ${v.alerts.unchanged} unchanged`,
    ...(v.pages ? [`*Expected pages per month* (dry-run): ${num(v.pages.perMonth, 1)}`] : []),
  ];
  const blocks: Block[] = [
    header(`Change opened: ${v.title}`),
    section(
      `:white_check_mark: ${link(v.branch, v.url)}: branch ${code(v.branch)} holds ${num(v.files.total)} files for ${num(v.approved.total)} approved ${v.approved.total === 1 ? "proposal" : "proposals"}.`,
    ),
    section(list("*Approved*", approved, v.approved.more)),
    section(list("*Blast radius*", blast)),
    section(list("*Files*", files, v.files.more)),
  ];
  if (v.notes.length > 0) blocks.push(context(...v.notes.map(esc)));
  blocks.push(...next(v.next));
  return { text: `SLO-Scout opened ${v.url}: ${v.title}`, blocks };
}

function refusal(v: RefusalView): SlackMessage {
  const blocks: Block[] = [section(`:no_entry: *${esc(v.title)}*: ${esc(v.reason)}`)];
  if (v.details.items.length > 0)
    blocks.push(
      section(
        list(
          "",
          v.details.items.map((d) => `• ${esc(d)}`),
          v.details.more,
        ),
      ),
    );
  if (v.correlationId) blocks.push(context(`Correlation id ${code(v.correlationId)}`));
  blocks.push(...next(v.next));
  return {
    text: `${v.title}: ${v.reason}${v.correlationId ? ` (correlation id ${v.correlationId})` : ""}`,
    blocks,
  };
}

function simulation(v: SimulationView): SlackMessage {
  const s = v.summary;
  const fields = [
    `*Good events over the history*\n${pct(s.attainment)}`,
    `*Pages / tickets*\n${num(s.pages)} / ${num(s.tickets)}`,
    `*Time with the budget overspent*\n${span(s.breachMs)}`,
    `*Lowest budget remaining*\n${share(s.minBudgetRemaining, 0)}`,
    `*Budget remaining at the end*\n${share(s.finalBudgetRemaining, 0)}`,
  ];
  const breaches = v.breaches.items.map(
    (b) => `• ${b.start} to ${b.end}, lowest ${share(b.minBudgetRemaining, 0)}`,
  );
  const blocks: Block[] = [
    header(`Simulation of ${v.proposal.name} at ${pct(v.target)}`),
    section(
      `${code(v.proposal.id)} on ${code(v.proposal.service)}, replayed as if the SLO had existed: a ${v.windowDays}d window, an error budget of ${share(v.errorBudget, 3)} (the proposal recommends ${pct(v.proposal.target.recommended)}).`,
    ),
    { type: "section", fields: fields.map((text) => ({ type: "mrkdwn", text })) },
  ];
  if (breaches.length > 0) blocks.push(section(list("*Budget overspent*", breaches, v.breaches.more)));
  if (v.warnings.length > 0) blocks.push(context(...v.warnings.map((w) => `:warning: ${esc(w)}`)));
  // An Approve button approves at the recommended target, so it is offered only when that is what ran.
  if (v.proposal.status === "proposed" && Math.abs(v.target - v.proposal.target.recommended) < 1e-9)
    blocks.push(proposalButtons(v.proposal));
  blocks.push(...next(v.next));
  return { text: `Simulation of ${v.proposal.id} at ${pct(v.target)}: ${s.pages} pages`, blocks };
}

function status(v: StatusView): SlackMessage {
  const rows = v.services.items.map(
    (s) =>
      `• ${code(s.name)}: ${esc(s.signals) || "no signals"}, ${num(s.historyDays, 1)} days of history, ${num(s.journeys)} journeys${s.proposals ? `, proposals: ${esc(s.proposals)}` : ""}${s.lastSeen ? `, last seen ${s.lastSeen}` : ""}`,
  );
  return {
    text: `SLO-Scout status: ${v.services.total} services`,
    blocks: [
      header("SLO-Scout status"),
      section(rows.length > 0 ? list("", rows, v.services.more) : "No telemetry stored yet."),
      ...next(v.next),
    ],
  };
}

function help(v: HelpView): SlackMessage {
  return {
    text: "SLO-Scout commands",
    blocks: [
      section(`\`\`\`${cut(esc(v.text.replace(/```/g, "ʼʼʼ")), LIMITS.sectionText - 8)}\`\`\``),
      ...next(v.next),
    ],
  };
}

const RENDER: { [K in ViewModel["kind"]]: (v: Extract<ViewModel, { kind: K }>) => SlackMessage } = {
  analysis,
  proposals,
  change,
  refusal,
  simulation,
  status,
  help,
};

/** Characters of text a block shows (what Slack's message-size limit counts), not its JSON. */
function textOf(value: unknown): number {
  if (typeof value === "string") return value.length;
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + textOf(v), 0);
  if (value && typeof value === "object")
    return Object.entries(value).reduce(
      (n, [k, v]) => n + (k === "text" || typeof v === "object" ? textOf(v) : 0),
      0,
    );
  return 0;
}

/**
 * Keeps a message inside Slack's limits whatever the lists held: at most 50 blocks and the character
 * budget, dropping blocks before the closing next-command context and saying how many were left out.
 */
export function fitLimits(message: SlackMessage): SlackMessage {
  const blocks = [...message.blocks];
  const last = blocks.at(-1);
  const tail = last?.type === "context" ? [blocks.pop()!] : [];
  let dropped = 0;
  const total = () => [...blocks, ...tail].reduce((n, b) => n + textOf(b), 0) + 200;
  while (
    blocks.length > 0 &&
    (blocks.length + tail.length + (dropped > 0 ? 1 : 0) > LIMITS.blocks || total() > LIMITS.totalText)
  ) {
    blocks.pop();
    dropped++;
  }
  // An actions block left without its proposal, or a trailing divider, would read oddly.
  while (blocks.at(-1)?.type === "divider") blocks.pop();
  const note =
    dropped > 0
      ? [
          context(
            `${num(dropped)} more ${dropped === 1 ? "block" : "blocks"} did not fit in one Slack message.`,
          ),
        ]
      : [];
  // The fallback text notifies, so a name from telemetry must not become a mention there either.
  return { text: cut(esc(message.text), LIMITS.fallbackText), blocks: [...blocks, ...note, ...tail] };
}

export function renderBlocks(view: ViewModel): SlackMessage {
  const render = RENDER[view.kind] as (v: ViewModel) => SlackMessage;
  return fitLimits(render(view));
}

/** Several views (one change per service) as one message, within the same limits. */
export function renderReply(views: ViewModel[]): SlackMessage {
  const parts = views
    .map((v) => RENDER[v.kind] as (v: ViewModel) => SlackMessage)
    .map((r, i) => r(views[i]!));
  return fitLimits({
    text: parts.map((p) => p.text).join("; "),
    blocks: parts.flatMap((p, i) => (i === 0 ? p.blocks : [divider, ...p.blocks])),
  });
}

/** The message a command gets while its job runs; edited in place with the answer. */
export function runningMessage(commandText: string, userId: string): SlackMessage {
  return {
    text: `Running ${commandText}…`,
    blocks: [
      context(
        `:hourglass_flowing_sand: ${code(commandText)} asked by ${mention(userId)}; the answer replaces this message.`,
      ),
    ],
  };
}
