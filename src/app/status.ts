import type { Proposal } from "../core/proposal.js";
import { listProposals } from "../store/repos/proposals.js";
import { listJourneys, listServices } from "../store/repos/services.js";
import type { AppContext } from "./context.js";

export interface ServiceStatus {
  name: string;
  signals: string[];
  firstSeen?: number;
  lastSeen?: number;
  /** Days between the first and last telemetry stored: what analysis can backtest on. */
  historyDays: number;
  journeys: number;
  proposals: Partial<Record<Proposal["status"], number>>;
}

export interface Status {
  services: ServiceStatus[];
}

const DAY_MS = 86_400_000;

/** What SLO-Scout knows: every service with telemetry, its history, journeys and proposals by status. */
export async function status(app: AppContext): Promise<Status> {
  const [services, journeys, props] = await Promise.all([
    listServices(app.sql),
    listJourneys(app.sql),
    listProposals(app.sql, { limit: 10_000 }),
  ]);
  return {
    services: services.map((s) => {
      const counts: ServiceStatus["proposals"] = {};
      for (const p of props) if (p.service === s.name) counts[p.status] = (counts[p.status] ?? 0) + 1;
      return {
        name: s.name,
        signals: s.signals,
        ...(s.firstSeen !== undefined ? { firstSeen: s.firstSeen } : {}),
        ...(s.lastSeen !== undefined ? { lastSeen: s.lastSeen } : {}),
        historyDays:
          s.firstSeen !== undefined && s.lastSeen !== undefined ? (s.lastSeen - s.firstSeen) / DAY_MS : 0,
        journeys: journeys.filter((j) => j.service === s.name).length,
        proposals: counts,
      };
    }),
  };
}
