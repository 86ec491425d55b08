import OpenAI from "openai";
import type { Config } from "../../config.js";
import type { Journey } from "../../core/journey.js";
import type { Proposal } from "../../core/proposal.js";
import { buildContext, type ContextOptions, type FindSimilarCapsules, type LlmContext } from "./context.js";
import { buildMessages, type ChatMessage, REFINEMENT_JSON_SCHEMA, Refinement } from "./prompts.js";

/**
 * Optional LLM refinement of deterministic proposals. The model may rename, describe, explain and
 * re-rank; it can never change a number: names and text are copied from the reply, every number from
 * the deterministic proposal. On timeout, error or an invalid reply the deterministic proposals stand
 * and `proposal.llm.reason` says why.
 */

export interface LlmSettings {
  baseUrl?: string;
  apiKey?: string;
  model: string;
  timeoutMs: number;
}

/** LLM settings from the config; undefined when no OpenAI-compatible server is configured. */
export function llmSettingsFromConfig(
  config: Pick<Config, "OPENAI_BASE_URL" | "OPENAI_API_KEY" | "LLM_MODEL" | "LLM_TIMEOUT_MS">,
): LlmSettings | undefined {
  if (!config.OPENAI_BASE_URL && !config.OPENAI_API_KEY) return undefined;
  return {
    baseUrl: config.OPENAI_BASE_URL,
    apiKey: config.OPENAI_API_KEY,
    model: config.LLM_MODEL,
    timeoutMs: config.LLM_TIMEOUT_MS,
  };
}

export interface RefineOptions extends ContextOptions {
  /** No settings: the deterministic proposals are returned with `llm.used = false`. */
  settings?: LlmSettings;
  findSimilarCapsules?: FindSimilarCapsules;
  /** Capsules to retrieve; default 8. */
  capsuleK?: number;
}

export interface RefineResult {
  proposals: Proposal[];
  journey?: { name: string; description: string };
  llm: NonNullable<Proposal["llm"]>;
  /** What was sent, for audit; undefined when no request was made. */
  context?: LlmContext;
  messages?: ChatMessage[];
}

/** Keys that carry numbers in a proposal: a reply that sets one is trying to change the analysis. */
const NUMERIC_KEYS = [
  "target",
  "targets",
  "recommended",
  "aspirational",
  "safe",
  "errorBudget",
  "objective",
  "threshold",
  "window",
  "backtest",
  "attainment",
  "confidence",
  "score",
];

class Rejected extends Error {}

export async function refineProposals(
  journey: Journey,
  proposals: Proposal[],
  opts: RefineOptions = {},
): Promise<RefineResult> {
  const settings = opts.settings;
  if (!settings)
    return stand(proposals, { used: false, reason: "no LLM configured; deterministic proposals" });
  if (proposals.length === 0)
    return stand(proposals, { used: false, model: settings.model, reason: "no proposals" });

  const notes: string[] = [];
  let capsules: Awaited<ReturnType<FindSimilarCapsules>> = [];
  if (opts.findSimilarCapsules) {
    try {
      capsules = await opts.findSimilarCapsules({
        service: journey.service,
        journey: journey.key,
        text: [journey.key, ...journey.downstream.map((e) => `${e.to} ${e.operation}`)].join("\n"),
        k: opts.capsuleK ?? 8,
      });
    } catch (err) {
      notes.push(`capsule retrieval failed (${oneLine(err)}); refined without log context`);
    }
  }
  const context = buildContext({ journey, proposals, capsules }, opts);
  if (context.dropped.length) notes.push(`context trimmed to fit ${context.tokens} tokens`);
  const messages = buildMessages(context);
  const fail = (reason: string) => ({
    ...stand(proposals, { used: false, model: settings.model, reason }),
    context,
    messages,
  });

  let content: string | null | undefined;
  try {
    const client = new OpenAI({
      baseURL: settings.baseUrl,
      apiKey: settings.apiKey ?? "unused",
      timeout: settings.timeoutMs,
      maxRetries: 0,
    });
    const reply = await client.chat.completions.create({
      model: settings.model,
      messages,
      temperature: 0,
      response_format: { type: "json_schema", json_schema: REFINEMENT_JSON_SCHEMA },
    });
    const message = reply.choices[0]?.message;
    if (message?.refusal) return fail(`LLM refused: ${cut(message.refusal)}; deterministic proposals stand`);
    content = message?.content;
  } catch (err) {
    if (err instanceof OpenAI.APIConnectionTimeoutError) {
      return fail(`LLM timed out after ${settings.timeoutMs} ms; deterministic proposals stand`);
    }
    return fail(`LLM request failed: ${oneLine(err)}; deterministic proposals stand`);
  }
  if (!content) return fail("LLM reply was empty; deterministic proposals stand");

  let refinement: Refinement;
  try {
    refinement = validateRefinement(content, proposals);
  } catch (err) {
    if (err instanceof Rejected) return fail(`${err.message}; reply ignored, deterministic proposals stand`);
    throw err;
  }
  const byId = new Map(refinement.proposals.map((r) => [r.id, r]));
  const order = [
    ...refinement.order,
    ...proposals.map((p) => p.id).filter((id) => !refinement.order.includes(id)),
  ];
  const llm = { used: true, model: settings.model, ...(notes.length ? { reason: notes.join("; ") } : {}) };
  const refined = order.map((id) => {
    const p = proposals.find((x) => x.id === id)!;
    const r = byId.get(id);
    if (!r) return { ...p, llm };
    return {
      ...p,
      name: r.name,
      rationale: r.rationale,
      sli: { ...p.sli, description: r.description },
      llm,
    };
  });
  return { proposals: refined, journey: refinement.journey, llm, context, messages };
}

function stand(proposals: Proposal[], llm: NonNullable<Proposal["llm"]>): RefineResult {
  return { proposals: proposals.map((p) => ({ ...p, llm })), llm };
}

const cut = (s: string, n = 200) => (s.length > n ? `${s.slice(0, n)}…` : s);
const oneLine = (err: unknown) => cut(String((err as Error)?.message ?? err).split("\n")[0]!);

/** Parses and checks a reply; throws Rejected with the reason a reviewer will read. */
export function validateRefinement(content: string, proposals: Proposal[]): Refinement {
  let raw: unknown;
  try {
    raw = JSON.parse(content);
  } catch {
    throw new Rejected(`LLM reply is not valid JSON (${cut(content, 80)})`);
  }
  const tamper = findNumberTampering(raw, proposals);
  if (tamper) throw new Rejected(tamper);
  const parsed = Refinement.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Rejected(
      `LLM reply does not match the schema at ${issue.path.join(".") || "(root)"}: ${issue.message}`,
    );
  }
  const r = parsed.data;
  const known = new Set(proposals.map((p) => p.id));
  for (const id of [...r.proposals.map((p) => p.id), ...r.order]) {
    if (!known.has(id)) throw new Rejected(`LLM reply names an unknown proposal id ${JSON.stringify(id)}`);
  }
  if (new Set(r.order).size !== r.order.length) throw new Rejected("LLM reply repeats an id in its order");
  if (new Set(r.proposals.map((p) => p.id)).size !== r.proposals.length) {
    throw new Rejected("LLM reply describes a proposal twice");
  }
  for (const item of r.proposals) {
    const p = proposals.find((x) => x.id === item.id)!;
    const allowed = allowedNumbers(p);
    for (const field of ["name", "description", "rationale"] as const) {
      const bad = strayNumber(item[field], allowed);
      if (bad) {
        throw new Rejected(
          `LLM ${field} of ${item.id} states ${bad}, a number SLO-Scout did not compute (it tried to change the analysis)`,
        );
      }
    }
  }
  return r;
}

function findNumberTampering(raw: unknown, proposals: Proposal[]): string | undefined {
  if (!raw || typeof raw !== "object") return undefined;
  const top = raw as Record<string, unknown>;
  for (const key of NUMERIC_KEYS) {
    if (key in top) return `LLM reply sets "${key}" at the top level, a number only SLO-Scout computes`;
  }
  if (!Array.isArray(top.proposals)) return undefined;
  for (const item of top.proposals) {
    if (!item || typeof item !== "object") continue;
    const rec = item as Record<string, unknown>;
    for (const key of NUMERIC_KEYS) {
      if (key in rec) {
        const p = proposals.find((x) => x.id === rec.id);
        const was = p
          ? ` (deterministic ${key === "target" || key === "recommended" ? `${p.target.recommended}%` : "value"})`
          : "";
        return `LLM tried to change ${key} of ${String(rec.id)} to ${cut(JSON.stringify(rec[key]), 60)}${was}`;
      }
    }
  }
  return undefined;
}

/** Every number a proposal's text may quote: its targets, ladder, backtest and confidence figures. */
function allowedNumbers(p: Proposal): number[] {
  const xs: number[] = [
    p.target.recommended,
    p.target.errorBudget * 100,
    p.backtest.attainment,
    p.backtest.days,
  ];
  if (p.target.aspirational !== undefined) xs.push(p.target.aspirational);
  if (p.target.safe !== undefined) xs.push(p.target.safe);
  if (p.sli.threshold) xs.push(p.sli.threshold.value);
  for (const r of p.backtest.ladder) {
    xs.push(r.target, r.worstWindowBudgetUsed * 100, r.daysInBreach, r.pages, r.tickets);
    if (r.worstWindowPages !== undefined) xs.push(r.worstWindowPages);
  }
  xs.push(p.confidence.score, p.confidence.score * 100);
  for (const c of p.confidence.parts) xs.push(c.score, c.score * 100, ...numbersIn(c.detail));
  for (const w of p.warnings) xs.push(...numbersIn(w));
  const window = /^(\d+)/.exec(p.window);
  if (window) xs.push(Number(window[1]));
  // The rule's own limits (75% of the budget, 2 pages) may be quoted when explaining it.
  xs.push(75, 2, 100);
  return xs;
}

function numbersIn(s: string): number[] {
  return [...s.matchAll(/\d+(?:[.,]\d+)*/g)]
    .map((m) => Number(m[0].replace(/,/g, "")))
    .filter(Number.isFinite);
}

/**
 * A percentage, or a decimal that reads like a target (9x.x), that matches none of the allowed numbers at
 * the precision it is written with.
 */
function strayNumber(text: string, allowed: number[]): string | undefined {
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)\s*(%|percent)|\b(9\d\.\d+)\b/g)) {
    const written = m[1] ?? m[3]!;
    const value = Number(written);
    const decimals = written.includes(".") ? written.split(".")[1]!.length : 0;
    const tolerance = 0.5 * 10 ** -decimals + 1e-9;
    if (!allowed.some((a) => Math.abs(a - value) <= tolerance)) return m[0];
  }
  return undefined;
}
