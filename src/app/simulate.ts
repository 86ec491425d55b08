import { analyzeService, UnknownServiceError, UnknownSliError } from "../analysis/analyze.js";
import { HistoryError, InsufficientHistoryError, parseWindowDays } from "../analysis/history.js";
import { simulate as replay, type Simulation } from "../analysis/simulate.js";
import { sliKindLabel } from "../analysis/sli.js";
import type { SliHistory } from "../core/history.js";
import type { Proposal } from "../core/proposal.js";
import type { Sli } from "../core/slo.js";
import { historyDeps } from "./analyze.js";
import type { AppContext } from "./context.js";
import { done, type Outcome, refuse } from "./outcome.js";
import { proposal } from "./proposals.js";

export interface SliSimulationRequest {
  service: string;
  sliId: string;
  /** Percent, e.g. 99.9. */
  target: number;
  window: string;
  stepMs?: number;
  /** Spacing of the budget curve; default 1h. */
  everyMs?: number;
  end?: number;
  onProgress?: (p: { done: number; total: number; label: string }) => void;
}

export interface SliSimulation {
  service: string;
  sli: Sli;
  window: string;
  simulation: Simulation;
}

/**
 * Replays an SLI's history against a target, as if the SLO had existed: the budget over time, breaches,
 * and the pages and tickets its burn-rate alerts would have sent. History is read again, so it reflects
 * data that arrived after the analysis.
 */
export async function simulateSli(
  app: AppContext,
  req: SliSimulationRequest,
): Promise<Outcome<SliSimulation>> {
  if (!(req.target > 0 && req.target < 100))
    return refuse("bad-request", `the target must be a percentage between 0 and 100, got ${req.target}`);
  let found: { sli: Sli; history: SliHistory } | undefined;
  try {
    const windowDays = parseWindowDays(req.window);
    await analyzeService(
      req.service,
      {
        ...historyDeps(app),
        ...(req.onProgress ? { onProgress: req.onProgress } : {}),
        onHistory: (sli, history) => {
          if (sli.id === req.sliId) found = { sli, history };
        },
      },
      {
        window: req.window,
        sliId: req.sliId,
        ...(req.stepMs ? { stepMs: req.stepMs } : {}),
        ...(req.end !== undefined ? { end: req.end } : app.config.PROMETHEUS_URL ? { end: app.now() } : {}),
      },
    );
    if (!found) return refuse("not-enough-history", `SLI ${req.sliId} has no history in the analysed range`);
    const simulation = replay(found.history, {
      target: req.target,
      windowDays,
      everyMs: req.everyMs ?? 3_600_000,
      label: `${found.sli.journey} ${sliKindLabel(found.sli)} SLI`,
    });
    return done({ service: req.service, sli: found.sli, window: req.window, simulation });
  } catch (err) {
    if (err instanceof InsufficientHistoryError) return refuse("not-enough-history", err.message);
    // The data the SLI was proposed from is no longer there (or never was, for a recorded proposal).
    if (err instanceof UnknownSliError) return refuse("not-enough-history", err.message);
    if (err instanceof HistoryError) return refuse("bad-request", err.message);
    if (err instanceof UnknownServiceError) return refuse("unknown-service", err.message);
    throw err;
  }
}

/** `simulate <proposal-id> --target <t>`: the proposal's SLI over its window. */
export async function simulate(
  app: AppContext,
  id: string,
  req: { target: number },
): Promise<Outcome<SliSimulation & { proposal: Proposal }>> {
  const found = await proposal(app, id);
  if (!found.ok) return found;
  const p = found.value;
  const result = await simulateSli(app, {
    service: p.service,
    sliId: p.sli.id,
    window: p.window,
    target: req.target,
  });
  return result.ok ? done({ ...result.value, proposal: p }) : result;
}
