import { type ChangeRecord, change, changes } from "../../app/changes.js";
import type { AppContext } from "../../app/context.js";
import { journeys } from "../../app/journeys.js";
import type { Refusal } from "../../app/outcome.js";
import { proposal, proposals } from "../../app/proposals.js";
import { simulate } from "../../app/simulate.js";
import { status } from "../../app/status.js";
import { backtestChart, journeyGraph } from "../../app/view-diagrams.js";
import {
  cliCommands,
  proposalsView,
  proposalView,
  refusalView,
  simulationView,
  statusView,
  type ViewOptions,
} from "../../app/view-model.js";
import type { Proposal } from "../../core/proposal.js";
import { refusalStatus } from "../refusal-status.js";
import { journeyGraphSvg, xyChartSvg } from "./charts.js";
import type { Page, PageData } from "./render-html.js";

/**
 * What each console page shows: the use cases' data through the app's view-model (the same content the
 * chats render as Markdown), plus the diagrams laid out as SVG. No I/O of its own beyond the use cases.
 */

export interface PageResult {
  status: number;
  page: Page;
  data: PageData;
}

/** The view-model's next commands are not shown (the console has its forms), but it wants a style. */
const VIEW: ViewOptions = { commands: cliCommands() };

/** How many journey graphs a service page draws (the rest are listed in the table). */
const GRAPHS = 4;

export function refusalPage(
  refusal: Refusal & { correlationId?: string },
  back?: { href: string; text: string },
): PageResult {
  const view = refusalView(refusal, VIEW);
  return {
    status: refusalStatus(refusal.code),
    page: "refusal",
    data: { title: view.title, refusal: view, back },
  };
}

export async function homePage(app: AppContext): Promise<PageResult> {
  const [known, recent] = await Promise.all([status(app), changes(app, { limit: 5 })]);
  const view = statusView(known, VIEW);
  const open = known.services.reduce((n, s) => n + (s.proposals.proposed ?? 0), 0);
  return {
    status: 200,
    page: "home",
    data: {
      title: "Services",
      nav: "services",
      services: view.services,
      open,
      recent: recent.map(changeRow),
    },
  };
}

export async function servicePage(app: AppContext, service: string): Promise<PageResult> {
  const found = await journeys(app, service);
  if (!found.ok) return refusalPage(found.refusal, { href: "/", text: "Back to the services" });
  const [list, made] = await Promise.all([proposals(app, { service }), changes(app, { service, limit: 20 })]);
  const view = proposalsView(list, { ...VIEW, service });
  const chart = backtestChart(view.proposals.items, list[0]?.window ?? "28d");
  return {
    status: 200,
    page: "service",
    data: {
      title: service,
      nav: "services",
      service,
      journeys: found.value.map((j) => ({
        key: j.key,
        service: j.service,
        requests: j.requests,
        trafficShare: j.trafficShare,
        errorShare: j.errorShare,
        depth: j.depth,
        userFacing: j.userFacing,
      })),
      graphs: found.value
        .slice(0, GRAPHS)
        .map((j, i) => ({ ...journeyGraphSvg(journeyGraph(j, service)), id: `journey-${i + 1}` })),
      proposals: view.proposals,
      counts: view.counts,
      ...(chart ? { budgetChart: { ...xyChartSvg(chart), id: "budget" } } : {}),
      changes: made.map(changeRow),
    },
  };
}

const STATUSES: readonly Proposal["status"][] = ["proposed", "approved", "rejected", "committed"];

export async function proposalsPage(
  app: AppContext,
  q: { service?: string; status?: string },
): Promise<PageResult> {
  const wanted = STATUSES.find((s) => s === q.status);
  const service = q.service?.trim() || undefined;
  const list = await proposals(app, {
    ...(service ? { service } : {}),
    ...(wanted ? { status: wanted } : {}),
  });
  const known = await status(app);
  const view = proposalsView(list, { ...VIEW, ...(service ? { service } : {}) });
  return {
    status: 200,
    page: "proposals",
    data: {
      title: "Proposals",
      nav: "proposals",
      proposals: view.proposals,
      counts: view.counts,
      filter: {
        services: known.services.map((s) => ({ name: s.name, selected: s.name === service })),
        statuses: STATUSES.map((s) => ({ name: s, selected: s === wanted })),
      },
    },
  };
}

/** A proposal, and when `target` is given its replay at that target (the error budget over time). */
export async function proposalPage(
  app: AppContext,
  id: string,
  q: { target?: string; rejected?: boolean },
): Promise<PageResult> {
  const found = await proposal(app, id);
  if (!found.ok) return refusalPage(found.refusal, { href: "/proposals", text: "Back to the proposals" });
  const p = found.value;
  const view = proposalView(p);
  let statusCode = 200;
  let simulation: object | undefined;
  let simulationRefusal: object | undefined;
  const target = q.target === undefined || q.target === "" ? undefined : Number(q.target);
  if (target !== undefined) {
    const replayed = await simulate(app, id, { target });
    if (replayed.ok) {
      simulation = simulationSection(replayed.value);
    } else {
      statusCode = refusalStatus(replayed.refusal.code);
      simulationRefusal = refusalView(replayed.refusal, VIEW);
    }
  }
  return {
    status: statusCode,
    page: "proposal",
    data: {
      title: view.name,
      nav: "proposals",
      p: view,
      open: p.status === "proposed",
      simulateTarget: q.target ?? String(p.target.recommended),
      ...(simulation ? { simulation } : {}),
      ...(simulationRefusal ? { simulationRefusal } : {}),
      rejected: q.rejected === true,
    },
  };
}

/** A replay as the proposal page shows it: the view-model's simulation and its budget curve as SVG. */
export function simulationSection(replay: Parameters<typeof simulationView>[0]) {
  const sim = simulationView(replay, VIEW);
  return { ...sim, ...(sim.chart ? { svg: { ...xyChartSvg(sim.chart), id: "simulation" } } : {}) };
}

export async function changesPage(app: AppContext, q: { opened?: string }): Promise<PageResult> {
  const list = await changes(app);
  const opened = q.opened ? list.find((c) => c.id === q.opened) : undefined;
  return {
    status: 200,
    page: "changes",
    data: {
      title: "Changes",
      nav: "changes",
      changes: list.map(changeRow),
      ...(opened ? { opened: changeRow(opened) } : {}),
    },
  };
}

export async function changePage(app: AppContext, id: string): Promise<PageResult> {
  const found = await change(app, id);
  if (!found.ok) return refusalPage(found.refusal, { href: "/changes", text: "Back to the changes" });
  const { change: c, approvals } = found.value;
  return {
    status: 200,
    page: "change",
    data: { title: c.title, nav: "changes", change: c, approvals: approvals.map(changeRow) },
  };
}

function changeRow(c: ChangeRecord) {
  return { ...c, fileCount: c.files.length };
}
