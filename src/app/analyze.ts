import {
  type AnalysisResult,
  type AnalyzeDeps,
  analyzeService,
  refusedForShortHistory,
  UnknownServiceError,
} from "../analysis/analyze.js";
import { HistoryError } from "../analysis/history.js";
import { prometheusCatalog } from "../analysis/history-source.js";
import { llmSettingsFromConfig } from "../analysis/llm/refine.js";
import { PrometheusHistory } from "../history/remote-read-source.js";
import { counter } from "../observability/metrics.js";
import { findSimilarCapsules } from "../pipeline/embed/similar.js";
import { getProposal, saveProposal } from "../store/repos/proposals.js";
import { replaceJourneys, upsertJourneys } from "../store/repos/services.js";
import type { AppContext } from "./context.js";
import { done, type Outcome, refuse } from "./outcome.js";

export interface AnalyzeRequest {
  service: string;
  /** SLO window, e.g. `28d`. */
  window?: string;
  /** Only proposals for this journey key. */
  journey?: string;
  end?: number;
  stepMs?: number;
  quantile?: number;
  maxJourneys?: number;
  /** Refine names and rationale with the configured LLM (when one is configured). */
  llm?: boolean;
  /** Store the journeys and proposals (default true). */
  save?: boolean;
  onProgress?: AnalyzeDeps["onProgress"];
}

/** Where history comes from: the configured Prometheus (remote_read or query_range), else the samples in the store. */
export function historyDeps(app: AppContext): Pick<AnalyzeDeps, "sql" | "querier" | "catalog"> {
  const url = app.config.PROMETHEUS_URL;
  if (!url) return { sql: app.sql };
  return {
    sql: app.sql,
    querier: new PrometheusHistory(url, { mode: app.config.PROMETHEUS_READ }),
    catalog: prometheusCatalog(url),
  };
}

async function llmDeps(app: AppContext): Promise<AnalyzeDeps["llm"]> {
  const settings = llmSettingsFromConfig(app.config);
  if (!settings) return undefined;
  const vectors = await app.vectors();
  const { openEmbedder } = await import("../pipeline/embed/open.js");
  const { redact } = await import("../pipeline/redact.js");
  const embedder = openEmbedder(app.config);
  return {
    settings,
    findSimilarCapsules: async (q) =>
      (
        await findSimilarCapsules({ sql: app.sql, vectors, embedder, redact }, q.text, q.k, {
          service: q.service,
        })
      ).map((h) => h.capsule),
  };
}

const analyses = counter(
  "slo_scout_analyses_total",
  "Analyses run by this process (API jobs, chat commands, the console, the CLI), by outcome: done; refused (an answer, e.g. not enough history or an unknown service); failed (an unexpected error)",
  ["outcome"],
);

/**
 * Finds a service's journeys and proposes SLIs with targets, confidence and evidence; stores the journeys
 * (so blast radius and the runbooks can name them) and the proposals (so a chat can approve them by id).
 * The result keeps the full analysis so a caller can render it or print it as JSON. Each outcome is
 * counted on /metrics (SLO-Scout's own analysis SLO reads it).
 */
export async function analyze(app: AppContext, req: AnalyzeRequest): Promise<Outcome<AnalysisResult>> {
  try {
    const outcome = await analyzeAndSave(app, req);
    analyses.inc({ outcome: outcome.ok ? "done" : "refused" });
    return outcome;
  } catch (err) {
    analyses.inc({ outcome: "failed" });
    throw err;
  }
}

async function analyzeAndSave(app: AppContext, req: AnalyzeRequest): Promise<Outcome<AnalysisResult>> {
  const llm = req.llm === false ? undefined : await llmDeps(app);
  let result: AnalysisResult;
  try {
    result = await analyzeService(
      req.service,
      {
        ...historyDeps(app),
        ...(llm ? { llm } : {}),
        ...(req.onProgress ? { onProgress: req.onProgress } : {}),
      },
      {
        ...(req.window ? { window: req.window } : {}),
        ...(req.stepMs ? { stepMs: req.stepMs } : {}),
        ...(req.quantile ? { quantile: req.quantile } : {}),
        ...(req.maxJourneys ? { maxJourneys: req.maxJourneys } : {}),
        ...(req.end !== undefined ? { end: req.end } : app.config.PROMETHEUS_URL ? { end: app.now() } : {}),
      },
    );
  } catch (err) {
    if (err instanceof UnknownServiceError) return refuse("unknown-service", err.message);
    if (err instanceof HistoryError) return refuse("bad-request", err.message);
    throw err;
  }
  if (req.journey !== undefined) {
    const keys = result.journeys.map((j) => j.key);
    if (!keys.includes(req.journey)) {
      return refuse(
        "unknown-id",
        `no journey ${req.journey} for ${req.service}. Journeys: ${keys.join(", ") || "none"}`,
      );
    }
    result = { ...result, proposals: result.proposals.filter((p) => p.journey === req.journey) };
  }
  const short = refusedForShortHistory(result);
  if (short) return refuse("not-enough-history", short);
  if (req.save !== false) {
    const now = app.now();
    const own = result.journeys.filter((j) => j.service === req.service);
    await replaceJourneys(app.sql, req.service, own, now);
    // Journeys entered at another service but passing through this one: stored under their owner without
    // replacing that owner's other journeys, which its own analysis keeps.
    await upsertJourneys(
      app.sql,
      result.journeys.filter((j) => j.service !== req.service),
      now,
    );
    for (const p of result.proposals) {
      // Analysing again refreshes the evidence but never reopens a decision already taken.
      const before = await getProposal(app.sql, p.id);
      await saveProposal(app.sql, before ? { ...p, status: before.status } : p, now);
    }
  }
  return done(result);
}
