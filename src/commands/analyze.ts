import type { AnalysisResult } from "../analysis/analyze.js";
import { parseWindowDays } from "../analysis/history.js";
import { analyze } from "../app/analyze.js";
import { openApp } from "../app/context.js";
import { loadConfig } from "../config.js";
import { parseDuration } from "../core/duration.js";
import type { Proposal } from "../core/proposal.js";
import { type Command, parseFlags, UsageError } from "./command.js";
import { cliLogger } from "./logger.js";
import { progressBar } from "./progress.js";
import { callApi, type Remote, RemoteError, remoteServer } from "./remote.js";

const usage = `Usage: slo-scout analyze <service> [--window 28d] [--json] [options]

Finds the service's journeys (entered at it or passing through it) and proposes SLIs as PromQL with
targets backtested on their history, confidence and evidence. History is read from PROMETHEUS_URL when
set, otherwise from the samples in the store (DATABASE_URL).

  --window 28d        SLO window (e.g. 28d, 30d, 4w); default 28d
  --json              print the result as JSON (the shape documented in README, "Analyzing a service")
  --end <time>        end of the analysed history (ISO 8601 or epoch ms); default: the newest data
                      (now with PROMETHEUS_URL)
  --step 5m           history resolution; must divide a day; default 5m
  --quantile 0.95     latency threshold quantile (p95 snapped up to a bucket bound); default 0.95
  --max-journeys 8    journeys that get proposals, best first; default 8
  --no-llm            do not refine names and rationale with the configured LLM
  --no-save           do not store the proposals and journeys`;

export interface AnalyzeFlags {
  service: string;
  window: string;
  json: boolean;
  end?: number;
  stepMs: number;
  quantile: number;
  maxJourneys: number;
  llm: boolean;
  save: boolean;
}

export function parseTime(text: string, flag: string): number {
  const n = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(n))
    throw new UsageError(
      `${flag} must be an ISO 8601 time or epoch milliseconds, got ${JSON.stringify(text)}`,
    );
  return n;
}

export function parseAnalyzeFlags(args: string[]): AnalyzeFlags {
  const { values, positionals } = parseFlags({
    args,
    allowPositionals: true,
    options: {
      window: { type: "string", default: "28d" },
      json: { type: "boolean", default: false },
      end: { type: "string" },
      step: { type: "string", default: "5m" },
      quantile: { type: "string", default: "0.95" },
      "max-journeys": { type: "string", default: "8" },
      "no-llm": { type: "boolean", default: false },
      "no-save": { type: "boolean", default: false },
    },
  });
  if (positionals.length !== 1) throw new UsageError("give exactly one service name");
  try {
    parseWindowDays(values.window);
  } catch (err) {
    throw new UsageError(`--window: ${(err as Error).message}`);
  }
  const stepMs = parseDuration(values.step);
  if (stepMs === undefined)
    throw new UsageError(`--step must be a duration like 5m or 1h, got ${JSON.stringify(values.step)}`);
  if (!(stepMs > 0) || 86_400_000 % stepMs !== 0)
    throw new UsageError(`--step must divide a day (e.g. 1m, 5m, 1h), got ${values.step}`);
  const quantile = Number(values.quantile);
  if (!(quantile > 0 && quantile < 1))
    throw new UsageError(`--quantile must be in (0, 1), e.g. 0.95, got ${values.quantile}`);
  const maxJourneys = Number(values["max-journeys"]);
  if (!Number.isInteger(maxJourneys) || maxJourneys < 1)
    throw new UsageError("--max-journeys must be a positive integer");
  return {
    service: positionals[0]!,
    window: values.window,
    json: values.json,
    ...(values.end !== undefined ? { end: parseTime(values.end, "--end") } : {}),
    stepMs,
    quantile,
    maxJourneys,
    llm: !values["no-llm"],
    save: !values["no-save"],
  };
}

// ── text rendering ──────────────────────────────────────────────────────────────────────────────────

const pct = (x: number, d = 3) => `${Number(x.toFixed(d))}%`;
const iso = (t: number) => new Date(t).toISOString().replace(/:00\.000Z$/, "Z");

function budgetLine(p: Proposal): string {
  const rung = p.backtest.ladder.find((r) => r.target === p.target.recommended);
  const allowed =
    rung?.allowedBadPerWindow !== undefined
      ? `, about ${Math.round(rung.allowedBadPerWindow).toLocaleString("en-US")} bad events per ${p.window}`
      : "";
  return `error budget ${pct(p.target.errorBudget * 100, 4)} of events${allowed}`;
}

export function renderText(r: AnalysisResult): string {
  const out: string[] = [];
  out.push(
    `Service ${r.service}, window ${r.window}, history ${iso(r.range.start - r.range.stepMs)} to ${iso(r.range.end)}`,
  );
  out.push("");
  out.push(`Journeys (${r.journeys.length}):`);
  for (const j of r.journeys) {
    out.push(
      `  ${j.key}  share ${pct(j.trafficShare * 100, 1)} of ${j.service}'s traced requests, depth ${j.depth}` +
        `${j.userFacing ? ", user-facing" : ""}, server errors ${pct(j.errorShare * 100, 2)}, score ${j.score}`,
    );
    for (const e of j.downstream.slice(0, 12)) {
      out.push(
        `    ${e.from} → ${e.to}: ${e.operation}  ${e.calls} calls, ${pct(e.errorShare * 100, 2)} errors, p50 ${e.p50Ms} ms, p95 ${e.p95Ms} ms`,
      );
    }
    if (j.downstream.length > 12) out.push(`    … ${j.downstream.length - 12} more calls`);
  }
  for (const p of r.proposals) {
    out.push("");
    out.push(`${p.name ?? p.journey}  [${p.sli.kind}, ${p.sli.source}]  id ${p.sli.id}`);
    if (p.sli.threshold) out.push(`  threshold  ${p.sli.threshold.value} ${p.sli.threshold.unit}`);
    if (p.sli.promql.good) out.push(`  good       ${p.sli.promql.good}`);
    if (p.sli.promql.total) out.push(`  total      ${p.sli.promql.total}`);
    out.push(`  error      ${p.sli.promql.errorRatio}`);
    out.push(
      `  target     recommended ${p.target.recommended}%` +
        `${p.target.aspirational !== undefined ? `, aspirational ${p.target.aspirational}%` : ""}` +
        `${p.target.safe !== undefined ? `, safe ${p.target.safe}%` : ""}; ${budgetLine(p)}`,
    );
    out.push(`  history    ${pct(p.backtest.attainment, 4)} over ${Number(p.backtest.days.toFixed(1))} days`);
    if (p.rationale) out.push(`  why        ${p.rationale}`);
    out.push(`  confidence ${p.confidence.score.toFixed(2)}`);
    for (const c of p.confidence.parts) out.push(`    ${c.name} ${c.score.toFixed(2)}: ${c.detail}`);
    out.push("  evidence");
    for (const e of p.evidence) {
      const range = e.range ? ` [${iso(e.range.start)} .. ${iso(e.range.end)}]` : "";
      out.push(`    ${e.kind} ${e.ref}${range}${e.note ? `  (${e.note})` : ""}`);
    }
    for (const w of p.warnings) out.push(`  warning    ${w}`);
    if (p.llm?.used === false && p.llm.reason && !/no LLM configured/.test(p.llm.reason))
      out.push(`  llm        ${p.llm.reason}`);
  }
  if (r.recommendations.length) {
    out.push("", "Instrumentation recommendations:");
    for (const rec of r.recommendations) {
      out.push(`  [${rec.kind}] ${rec.journey ?? rec.service}: ${rec.message}`);
      if (rec.snippet) for (const line of rec.snippet.split("\n")) out.push(`      ${line}`);
    }
  }
  if (r.skipped.length) {
    out.push("", "Not proposed:");
    for (const s of r.skipped) out.push(`  ${s.journey} ${s.kind}: ${s.reason}`);
  }
  for (const w of r.warnings) out.push(`warning: ${w}`);
  return `${out.join("\n")}\n`;
}

export const command: Command = {
  usage,
  async run(args) {
    const flags = parseAnalyzeFlags(args);
    const config = loadConfig();
    const remote = remoteServer(config);
    if (remote) return analyzeRemotely(remote, flags);
    const app = await openApp(config, { logger: cliLogger() });
    const bar = progressBar(Boolean(process.stderr.isTTY));
    try {
      const outcome = await analyze(app, {
        service: flags.service,
        window: flags.window,
        stepMs: flags.stepMs,
        quantile: flags.quantile,
        maxJourneys: flags.maxJourneys,
        llm: flags.llm,
        save: flags.save,
        ...(flags.end !== undefined ? { end: flags.end } : {}),
        onProgress: bar.onProgress,
      });
      bar.stop();
      if (!outcome.ok) {
        if (outcome.refusal.code === "bad-request") throw new UsageError(outcome.refusal.reason);
        process.stderr.write(`slo-scout analyze: ${outcome.refusal.reason}\n`);
        return 1;
      }
      process.stdout.write(
        flags.json ? `${JSON.stringify(outcome.value, null, 2)}\n` : renderText(outcome.value),
      );
      return 0;
    } finally {
      bar.stop();
      await app.close();
    }
  },
};

interface AnalysisJob {
  id: string;
  status: "queued" | "running" | "done" | "refused" | "failed";
  result?: AnalysisResult;
  refusal?: { code: string; reason: string };
}

/** The same analysis through a running server's API: queued there, polled until it is done. */
async function analyzeRemotely(remote: Remote, flags: AnalyzeFlags): Promise<number> {
  try {
    let job = await callApi<AnalysisJob>(remote, "POST", "/analyses", {
      service: flags.service,
      window: flags.window,
      step: `${flags.stepMs / 1000}s`,
      quantile: flags.quantile,
      maxJourneys: flags.maxJourneys,
      llm: flags.llm,
      save: flags.save,
      ...(flags.end !== undefined ? { end: flags.end } : {}),
    });
    while (job.status === "queued" || job.status === "running") {
      await new Promise((r) => setTimeout(r, 250));
      job = await callApi<AnalysisJob>(remote, "GET", `/analyses/${job.id}`);
    }
    if (job.status !== "done" || !job.result) {
      if (job.refusal?.code === "bad-request") throw new UsageError(job.refusal.reason);
      process.stderr.write(`slo-scout analyze: ${job.refusal?.reason ?? `the analysis ${job.status}`}\n`);
      return 1;
    }
    process.stdout.write(flags.json ? `${JSON.stringify(job.result, null, 2)}\n` : renderText(job.result));
    return 0;
  } catch (err) {
    if (!(err instanceof RemoteError)) throw err;
    if (err.status === 400) throw new UsageError(err.message);
    process.stderr.write(`slo-scout analyze: ${err.message}\n`);
    return 1;
  }
}
