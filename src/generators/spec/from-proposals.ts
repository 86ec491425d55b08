import { Document, isMap, isSeq, type Node, parseAllDocuments, type YAMLMap, type YAMLSeq } from "yaml";
import type { EvidencePointer } from "../../core/evidence.js";
import type { Proposal } from "../../core/proposal.js";
import { literalBlocks, printYaml } from "../rules-yaml.js";
import { loadSpecs } from "./index.js";
import { isSlothSpec, SLOTH_V1 } from "./sloth.js";
import { SpecError } from "./source.js";

/**
 * Approved proposals → the Sloth `prometheus/v1` spec a team keeps (`slos/<service>.yml`). The spec is the
 * source of truth after approval: people edit it and `slo-scout generate` regenerates every artifact from
 * it, so it holds only what Sloth reads, plus comments that say where each SLO came from. Merging into an
 * existing spec goes through the YAML document model so the user's comments and edits survive; only the
 * SLOs being (re)proposed are replaced.
 */

export interface SpecContext {
  /** Labels every SLO and alert carries, e.g. owner/team from the policy or config. */
  labels?: Record<string, string>;
  /**
   * Runbook and dashboard links for the alert annotations; `{service}`, `{slo}` and `{id}` are filled in
   * (as `generate --alert-annotation` does). Default: the paths the doc artifacts are written to.
   */
  runbookUrl?: string;
  dashboardUrl?: string;
  /** The current text of `slos/<service>.yml`, to merge into. */
  existing?: string;
}

export interface SpecFile {
  path: string;
  content: string;
}

const DEFAULT_RUNBOOK = "runbooks/{service}/{slo}.md";
const DEFAULT_DASHBOARD = "dashboards/{service}.json";

export class SpecMergeError extends Error {
  override name = "SpecMergeError";
}

export const specPath = (service: string) => `slos/${service}.yml`;

const slug = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");

/** What the SLI measures, in a name: the kind, or the web vital for RUM SLIs (one journey has several). */
function measure(p: Pick<Proposal, "sli">): string {
  if (p.sli.kind === "rum") {
    const vital = /vital="(\w+)"/.exec(p.sli.promql.total ?? p.sli.promql.errorRatio)?.[1];
    return vital ? vital.toLowerCase() : "rum";
  }
  return p.sli.kind === "log" ? "log-errors" : p.sli.kind;
}

/**
 * The SLO name of a proposal: journey and measure, without the service's own name in front. Derived from
 * the journey and SLI rather than the (LLM-refinable) display name, so re-analysing yields the same name
 * and a merge replaces the SLO instead of adding a twin.
 */
export function sloName(p: Pick<Proposal, "service" | "journey" | "sli">): string {
  const journey = p.journey.startsWith(`${p.service} `) ? p.journey.slice(p.service.length + 1) : p.journey;
  return slug(`${journey} ${measure(p)}`);
}

/** `checkout` + `post-checkout-availability` → `CheckoutPostCheckoutAvailability`. */
export function alertName(service: string, name: string): string {
  return `${service}-${name}`
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join("");
}

const fill = (template: string, service: string, name: string) =>
  template
    .replaceAll("{service}", service)
    .replaceAll("{slo}", name)
    .replaceAll("{id}", `${service}-${name}`);

/** Sloth's events SLI: bad = total - good, as Sloth's own latency example writes it. */
function sliOf(p: Proposal): Record<string, unknown> {
  const { good, total, errorRatio } = p.sli.promql;
  if (good && total) return { events: { error_query: `${total}\n-\n${good}`, total_query: total } };
  return { raw: { error_ratio_query: errorRatio } };
}

function sloItem(service: string, p: Proposal, ctx: SpecContext): Record<string, unknown> {
  const name = sloName(p);
  const labels = ctx.labels ?? {};
  return {
    name,
    objective: p.target.recommended,
    description: p.sli.description ?? p.name ?? p.journey,
    sli: sliOf(p),
    alerting: {
      name: alertName(service, name),
      ...(Object.keys(labels).length ? { labels } : {}),
      annotations: {
        summary: `${p.name ?? `${p.journey} ${p.sli.kind}`} is burning its error budget`,
        runbook_url: fill(ctx.runbookUrl ?? DEFAULT_RUNBOOK, service, name),
        dashboard_url: fill(ctx.dashboardUrl ?? DEFAULT_DASHBOARD, service, name),
      },
      page_alert: { labels: { severity: "page" } },
      ticket_alert: { labels: { severity: "ticket" } },
    },
  };
}

const iso = (t: number) => new Date(t).toISOString().replace(/:00\.000Z$/, "Z");
const oneLine = (s: string) => s.replace(/\s+/g, " ").trim();

function evidenceLine(e: EvidencePointer): string {
  const range = e.range ? ` [${iso(e.range.start)} .. ${iso(e.range.end)}]` : "";
  return `   ${e.kind} ${oneLine(e.ref)}${range}${e.note ? `: ${oneLine(e.note)}` : ""}`;
}

/** The comment above an SLO: where it came from, the targets weighed and the evidence to check. */
export function provenanceComment(p: Proposal): string {
  const t = p.target;
  const considered = [
    `recommended ${t.recommended}%`,
    ...(t.aspirational !== undefined ? [`aspirational ${t.aspirational}%`] : []),
    ...(t.safe !== undefined ? [`safe ${t.safe}%`] : []),
  ];
  const attained = Number(p.backtest.attainment.toFixed(4));
  return [
    ` proposal ${p.id}: ${oneLine(p.name ?? p.journey)} (journey ${p.journey}, ${p.window} window)`,
    ` targets considered: ${considered.join(", ")}; history: ${attained}% over ${Number(p.backtest.days.toFixed(1))} days`,
    ` confidence ${p.confidence.score.toFixed(2)}`,
    " evidence:",
    ...p.evidence.map(evidenceLine),
  ].join("\n");
}

function header(service: string, window: string): string {
  return [
    ` SLOs of ${service}, proposed by SLO-Scout from its telemetry. This file is yours: edit it, then`,
    ` regenerate the rules, alerts, tests, dashboard and runbooks with`,
    `   slo-scout generate ${specPath(service)} --default-slo-period ${window} -o rules --docs`,
    ` (a Sloth spec carries no period; the targets were backtested on a ${window} window).`,
  ].join("\n");
}

function freshDocument(service: string, labels: Record<string, string>, window: string): Document {
  const doc = new Document({
    version: SLOTH_V1,
    service,
    ...(Object.keys(labels).length ? { labels } : {}),
    slos: [],
  });
  doc.commentBefore = header(service, window);
  return doc;
}

function existingDocument(service: string, text: string): Document {
  const where = specPath(service);
  const docs = parseAllDocuments(text);
  const list = Array.isArray(docs) ? docs : [];
  const doc = list[0];
  if (list.length !== 1 || !doc || doc.errors.length > 0) {
    throw new SpecMergeError(
      `${where}: cannot merge into it: ${doc?.errors[0]?.message.split("\n")[0] ?? "expected exactly one YAML document"}`,
    );
  }
  const data = doc.toJS() as { service?: unknown } | null;
  if (!isSlothSpec(data) || data?.service !== service) {
    throw new SpecMergeError(
      `${where}: cannot merge into it: it is not a ${SLOTH_V1} spec of service ${service}`,
    );
  }
  return doc;
}

/**
 * The spec holding `proposals` (all of `service`), merged into `context.existing` when given: an SLO with
 * the same name is replaced, every other SLO, label and comment is kept, and missing labels are added.
 */
export function specFromProposals(
  service: string,
  proposals: Proposal[],
  context: SpecContext = {},
): SpecFile {
  const foreign = proposals.find((p) => p.service !== service);
  if (foreign) throw new SpecMergeError(`proposal ${foreign.id} is of ${foreign.service}, not ${service}`);
  if (proposals.length === 0) throw new SpecMergeError(`no proposals of ${service} to write a spec from`);
  const labels = context.labels ?? {};
  const doc =
    context.existing === undefined
      ? freshDocument(service, labels, proposals[0]!.window)
      : existingDocument(service, context.existing);
  for (const [k, v] of Object.entries(labels)) {
    if (!doc.hasIn(["labels", k])) doc.setIn(["labels", k], v);
  }
  if (!isSeq(doc.get("slos"))) doc.set("slos", doc.createNode([]));
  const slos = doc.get("slos") as YAMLSeq;
  // `slos: []` reads as a flow sequence; SLOs are written one block each, as people write them.
  slos.flow = false;
  for (const p of proposals) {
    const node = doc.createNode(sloItem(service, p, context)) as YAMLMap;
    literalBlocks(node as Node);
    node.commentBefore = provenanceComment(p);
    node.spaceBefore = true;
    const name = sloName(p);
    const at = slos.items.findIndex((item) => isMap(item) && item.get("name") === name);
    if (at >= 0) slos.items[at] = node;
    else slos.items.push(node);
    // The parser hangs the comment above the first item on the sequence: it goes with the item it describes.
    if (at === 0) slos.commentBefore = null;
  }

  const path = specPath(service);
  const content = printYaml(doc);
  // What is handed back must load: a bad label or query surfaces here, not at the next generate.
  const { issues } = loadSpecs(content, path);
  if (issues.length > 0) throw new SpecError(issues);
  return { path, content };
}
