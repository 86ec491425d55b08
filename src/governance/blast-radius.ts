import type { Journey } from "../core/journey.js";
import type { Artifact } from "../core/proposal.js";
import type { Router } from "./routes.js";
import { type AlertInFile, alertsOf, serviceOf, severityOf } from "./rules.js";

/** What a change set touches, compared with what the repository already holds. */
export interface BlastRadiusInput {
  /** The proposed files, paths relative to the repository root. */
  changes: Pick<Artifact, "path" | "content">[];
  /** The repository's current files (at least its rule files). */
  existing: Pick<Artifact, "path" | "content">[];
  journeys?: Journey[];
  /** Expected pages per service over 28 days, from the dry-run. */
  pagesPer28d?: Record<string, number>;
  router?: Router;
}

export interface AlertRef {
  alert: string;
  path: string;
  service?: string;
  severity?: string;
}

export interface BlastRadiusReport {
  files: { path: string; status: "added" | "modified" | "unchanged" }[];
  services: string[];
  journeys: string[];
  /** Services downstream of the covered journeys: where a page may have to look. */
  dependents: string[];
  alerts: { added: AlertRef[]; changed: AlertRef[]; removed: AlertRef[]; unchanged: number };
  pagesPerMonth?: number;
  pagesPerMonthByService?: Record<string, number>;
  routes: { receiver: string; via: string; alerts: string[] }[];
}

/** An alert's identity across files: its name, the SLO it belongs to and its severity. */
function identity(a: AlertInFile): string {
  return [a.alert, a.labels.sloth_id ?? a.labels.slo ?? "", severityOf(a) ?? ""].join("\u0000");
}

function fingerprint(a: AlertInFile): string {
  const sorted = (m: Record<string, string>) => JSON.stringify(Object.entries(m).sort());
  return [a.expr.replace(/\s+/g, " ").trim(), a.for ?? "", sorted(a.labels)].join("\u0000");
}

const ref = (a: AlertInFile): AlertRef => ({
  alert: a.alert,
  path: a.path,
  ...(serviceOf(a) ? { service: serviceOf(a) } : {}),
  ...(severityOf(a) ? { severity: severityOf(a) } : {}),
});

/** A journey covers a service it enters at or calls anywhere along its path (e.g. api-gateway → checkout). */
function passesThrough(j: Journey, services: string[]): boolean {
  return services.includes(j.service) || j.downstream.some((e) => services.includes(e.to));
}

/** Services a journey reaches from `from` onwards: its callers upstream are not its dependents. */
function downstreamOf(j: Journey, from: string[]): Set<string> {
  const reached = new Set(from.filter((s) => passesThrough(j, [s])));
  for (let grew = true; grew; ) {
    grew = false;
    for (const e of j.downstream) {
      if (reached.has(e.from) && !reached.has(e.to)) {
        reached.add(e.to);
        grew = true;
      }
    }
  }
  return reached;
}

export function blastRadius(input: BlastRadiusInput): BlastRadiusReport {
  const existingByPath = new Map(input.existing.map((f) => [f.path, f.content]));
  const files = input.changes.map((f) => {
    const before = existingByPath.get(f.path);
    const status: "added" | "modified" | "unchanged" =
      before === undefined ? "added" : before === f.content ? "unchanged" : "modified";
    return { path: f.path, status };
  });

  const proposed = alertsOf(input.changes);
  const current = alertsOf(input.existing);
  const currentById = new Map(current.map((a) => [identity(a), a]));
  const proposedIds = new Set(proposed.map(identity));
  const added: AlertRef[] = [];
  const changed: AlertRef[] = [];
  let unchanged = 0;
  for (const a of proposed) {
    const before = currentById.get(identity(a));
    if (!before) added.push(ref(a));
    else if (fingerprint(before) !== fingerprint(a)) changed.push(ref(a));
    else unchanged++;
  }
  // A proposed file replaces the file at its path: alerts only there before are removed.
  const replaced = new Set(input.changes.map((f) => f.path));
  const removed = current.filter((a) => replaced.has(a.path) && !proposedIds.has(identity(a))).map(ref);

  const services = [...new Set(proposed.map(serviceOf).filter((s): s is string => !!s))].sort();
  const covered = (input.journeys ?? []).filter((j) => passesThrough(j, services));
  const dependents = new Set<string>();
  for (const j of covered)
    for (const s of downstreamOf(j, services)) if (!services.includes(s)) dependents.add(s);

  const routes = new Map<string, { receiver: string; via: string; alerts: string[] }>();
  if (input.router) {
    for (const a of proposed) {
      for (const m of input.router.route({ alertname: a.alert, ...a.labels })) {
        const via = m.path.join(", ") || "(default route)";
        const key = `${m.receiver}\u0000${via}`;
        const r = routes.get(key) ?? { receiver: m.receiver, via, alerts: [] };
        r.alerts.push(a.alert);
        routes.set(key, r);
      }
    }
  } else {
    for (const a of proposed) {
      const via = Object.entries(a.labels)
        .filter(([k]) => ["severity", "team", "owner", "service", "sloth_severity"].includes(k))
        .map(([k, v]) => `${k}="${v}"`)
        .join(", ");
      const r = routes.get(via) ?? { receiver: "(no alertmanager config given)", via, alerts: [] };
      r.alerts.push(a.alert);
      routes.set(via, r);
    }
  }

  const report: BlastRadiusReport = {
    files,
    services,
    journeys: covered.map((j) => j.key).sort(),
    dependents: [...dependents].sort(),
    alerts: { added, changed, removed, unchanged },
    routes: [...routes.values()],
  };
  if (input.pagesPer28d) {
    const byService: Record<string, number> = {};
    for (const s of services) byService[s] = ((input.pagesPer28d[s] ?? 0) * 30) / 28;
    report.pagesPerMonthByService = byService;
    report.pagesPerMonth = Object.values(byService).reduce((a, b) => a + b, 0);
  }
  return report;
}
