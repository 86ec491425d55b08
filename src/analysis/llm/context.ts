import { randomBytes } from "node:crypto";
import type { Capsule } from "../../core/capsule.js";
import type { Journey } from "../../core/journey.js";
import type { Proposal } from "../../core/proposal.js";

/**
 * The RAG context for LLM refinement: the journey and its deterministic proposals (facts SLO-Scout
 * computed) plus the nearest log capsules (untrusted text from the service's logs) inside a delimited
 * data block. It fits a token budget by dropping the lowest-priority parts first.
 */

/** Retrieval of the capsules nearest to a journey (top-k by vector similarity, already redacted). */
export type FindSimilarCapsules = (query: {
  service: string;
  journey: string;
  /** Text to embed for the similarity search. */
  text: string;
  k: number;
}) => Promise<Capsule[]>;

export interface ContextInput {
  journey: Journey;
  proposals: Proposal[];
  /** Nearest first. */
  capsules: Capsule[];
}

export interface ContextOptions {
  /** Budget for facts + data, in approximate tokens (chars / 4). Default 6000. */
  maxTokens?: number;
  /** Marker id of the data block; random by default so log text cannot forge the end marker. */
  boundary?: string;
}

export interface LlmContext {
  /** JSON facts computed by SLO-Scout. */
  facts: string;
  /** The whole untrusted block, markers included. */
  data: string;
  beginMarker: string;
  endMarker: string;
  tokens: number;
  /** What was cut to fit the budget, in the order it was cut. */
  dropped: string[];
  /** Capsule ids that made it into the data block. */
  capsuleIds: string[];
}

export const DEFAULT_CONTEXT_TOKENS = 6000;
export const approxTokens = (s: string) => Math.ceil(s.length / 4);

const MAX_SAMPLE_CHARS = 300;
const MAX_TEMPLATE_CHARS = 400;

interface Shape {
  samplesPerCapsule: number[];
  capsules: number;
  confidenceDetail: boolean;
  fullLadder: boolean;
  edges: number;
  warnings: boolean;
}

const cut = (s: string, n: number) => (s.length > n ? `${s.slice(0, n)}…` : s);

export function capsuleId(c: Capsule): string {
  return c.id ?? `${c.fingerprint.slice(0, 16)}@${c.windowStart}`;
}

function renderFacts(input: ContextInput, shape: Shape): string {
  const j = input.journey;
  const journey = {
    key: j.key,
    service: j.service,
    method: j.method,
    route: j.route,
    requests: j.requests,
    trafficShare: round(j.trafficShare),
    errorShare: round(j.errorShare),
    depth: j.depth,
    userFacing: j.userFacing,
    downstream: [...j.downstream]
      .sort((a, b) => b.calls - a.calls)
      .slice(0, shape.edges)
      .map((e) => ({
        from: e.from,
        to: e.to,
        operation: e.operation,
        calls: e.calls,
        errorShare: round(e.errorShare),
        p95Ms: e.p95Ms,
      })),
  };
  const candidates = input.proposals.map((p) => {
    const keep = new Set([p.target.recommended, p.target.aspirational, p.target.safe]);
    return {
      id: p.id,
      kind: p.sli.kind,
      source: p.sli.source,
      errorRatio: p.sli.promql.errorRatio,
      threshold: p.sli.threshold,
      window: p.window,
      target: p.target,
      backtest: {
        attainment: round(p.backtest.attainment),
        days: round(p.backtest.days),
        ladder: p.backtest.ladder
          .filter((r) => shape.fullLadder || keep.has(r.target))
          .map((r) => ({
            target: r.target,
            worstWindowBudgetUsed: round(r.worstWindowBudgetUsed),
            daysInBreach: r.daysInBreach,
            pages: r.pages,
            tickets: r.tickets,
          })),
      },
      confidence: {
        score: p.confidence.score,
        parts: p.confidence.parts.map((c) =>
          shape.confidenceDetail
            ? { name: c.name, score: c.score, detail: c.detail }
            : { name: c.name, score: c.score },
        ),
      },
      ...(shape.warnings && p.warnings.length ? { warnings: p.warnings } : {}),
    };
  });
  return JSON.stringify({ journey, candidates }, null, 1);
}

function renderData(input: ContextInput, shape: Shape, begin: string, end: string, token: string): string {
  const lines = input.capsules.slice(0, shape.capsules).map((c, i) =>
    // One JSON object per line: newlines and quotes in log text stay escaped inside their string.
    JSON.stringify({
      capsule: capsuleId(c),
      service: c.service,
      count: c.count,
      severities: Object.fromEntries(Object.entries(c.severityCounts).filter(([, v]) => v > 0)),
      template: scrub(cut(c.template, MAX_TEMPLATE_CHARS), token),
      samples: c.samples
        .slice(0, shape.samplesPerCapsule[i] ?? 0)
        .map((s) => scrub(cut(s, MAX_SAMPLE_CHARS), token)),
    }),
  );
  return [begin, ...lines, end].join("\n");
}

/** Log text can never contain the block's marker, even if it guessed the boundary. */
const scrub = (s: string, token: string) => s.split(token).join("[marker removed]");

const round = (x: number) => Math.round(x * 1e6) / 1e6;

export function buildContext(input: ContextInput, opts: ContextOptions = {}): LlmContext {
  const maxTokens = opts.maxTokens ?? DEFAULT_CONTEXT_TOKENS;
  const boundary = opts.boundary ?? randomBytes(8).toString("hex");
  const token = `UNTRUSTED-LOG-DATA-${boundary}`;
  const beginMarker = `<<<BEGIN ${token}>>>`;
  const endMarker = `<<<END ${token}>>>`;
  const shape: Shape = {
    samplesPerCapsule: input.capsules.map((c) => Math.min(3, c.samples.length)),
    capsules: input.capsules.length,
    confidenceDetail: true,
    fullLadder: true,
    edges: 12,
    warnings: true,
  };
  const dropped: string[] = [];
  const flag = (key: "warnings" | "confidenceDetail" | "fullLadder", what: string) => () => {
    if (!shape[key]) return undefined;
    shape[key] = false;
    return what;
  };
  // Lowest priority first: extra samples, then the least similar capsules, then detail about the numbers.
  const steps: Array<() => string | undefined> = [
    () => {
      for (let i = shape.capsules - 1; i >= 0; i--) {
        if ((shape.samplesPerCapsule[i] ?? 0) > 1) {
          shape.samplesPerCapsule[i] = 1;
          return `extra samples of capsule ${capsuleId(input.capsules[i]!)}`;
        }
      }
      return undefined;
    },
    () => {
      for (let i = shape.capsules - 1; i >= 0; i--) {
        if ((shape.samplesPerCapsule[i] ?? 0) > 0) {
          shape.samplesPerCapsule[i] = 0;
          return `samples of capsule ${capsuleId(input.capsules[i]!)}`;
        }
      }
      return undefined;
    },
    () => {
      if (shape.capsules === 0) return undefined;
      shape.capsules--;
      return `capsule ${capsuleId(input.capsules[shape.capsules]!)}`;
    },
    flag("warnings", "candidate warnings"),
    flag("confidenceDetail", "confidence details"),
    flag("fullLadder", "ladder rungs other than recommended/aspirational/safe"),
    () => {
      if (shape.edges <= 3) return undefined;
      shape.edges = 3;
      return "downstream edges beyond the 3 busiest";
    },
  ];
  for (;;) {
    const facts = renderFacts(input, shape);
    const data = renderData(input, shape, beginMarker, endMarker, token);
    const tokens = approxTokens(facts) + approxTokens(data);
    if (tokens <= maxTokens) {
      return {
        facts,
        data,
        beginMarker,
        endMarker,
        tokens,
        dropped,
        capsuleIds: input.capsules.slice(0, shape.capsules).map(capsuleId),
      };
    }
    let what: string | undefined;
    for (const step of steps) {
      what = step();
      if (what) break;
    }
    if (!what) {
      dropped.push(`nothing left to cut: context is ${tokens} tokens, over the ${maxTokens} budget`);
      return { facts, data, beginMarker, endMarker, tokens, dropped, capsuleIds: [] };
    }
    dropped.push(what);
  }
}
