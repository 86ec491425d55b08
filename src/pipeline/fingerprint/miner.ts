import { DELIMITERS } from "./mask.js";

// a local copy: an imported binding is read through a getter in the hot loops
const WILDCARD = "<*>";

/**
 * Online template mining in the spirit of Drain (He et al., ICWS 2017): masked token sequences are routed
 * by token count and their leading tokens to a leaf; within the leaf the most similar template above a
 * threshold absorbs the line, turning the positions where they differ into `<*>`. The state is plain
 * data (`toJSON`/`fromJSON`) so a restarted or second worker continues with the same templates.
 */

export interface MinerOptions {
  /** Leading tokens used as the route to a leaf (Drain's depth − 2). */
  prefixTokens: number;
  /** Fraction of positions that must agree for a line to join a template. */
  similarity: number;
  /**
   * A merged position that only ever held up to this many distinct plain words (`HTTPS`/`SOCKS5`, a state
   * name) is an enumeration: each line keeps its own word in its template.
   */
  maxConstants: number;
}

const WORD_VS_VARIABLE = 0.5;
const VARIABLE_VS_WORD = 0.5;

export const DEFAULT_MINER_OPTIONS: MinerOptions = { prefixTokens: 1, similarity: 0.7, maxConstants: 3 };

export interface Cluster {
  id: number;
  /** The leaf the cluster lives in (fixed when the cluster is created). */
  key: string;
  tokens: string[];
  count: number;
  /**
   * Per position generalised by merging (to `<*>`, or a shaped `(<*>)`): the distinct plain words seen
   * there — an enumeration — or null once there were more than `maxConstants` of them, or two that differ
   * only in their digits (then it is a true variable).
   */
  constants: (string[] | null)[];
}

export interface MinerState {
  version: 1;
  options: MinerOptions;
  nextId: number;
  clusters: Cluster[];
}

export interface MatchResult {
  cluster: Cluster;
  /** True when the line changed the cluster's template (a new cluster or a generalisation). */
  changed: boolean;
}

function routeToken(tok: string): string {
  for (let i = 0; i < tok.length; i++) {
    const c = tok.charCodeAt(i);
    if ((c >= 48 && c <= 57) || c === 42 /* * of <*> */) return WILDCARD;
  }
  return tok;
}

export function leafKey(tokens: readonly string[], prefixTokens: number): string {
  let key = String(tokens.length);
  const n = Math.min(prefixTokens, tokens.length);
  for (let i = 0; i < n; i++) key += `\u0001${routeToken(tokens[i]!)}`;
  return key;
}

/**
 * Generalises two tokens: equal pieces (split at delimiters) stay, differing pieces become `<*>`, so
 * `rhost=a` and `rhost=b` give `rhost=<*>` rather than `<*>`. Tokens of different shapes give `<*>`.
 */
export function mergeToken(a: string, b: string): string {
  if (a === b) return a;
  if (a === WILDCARD || b === WILDCARD) return WILDCARD;
  const pa = a.split(DELIMITERS);
  const pb = b.split(DELIMITERS);
  if (pa.length === pb.length && pa.length > 1) {
    let out = "";
    let same = true;
    for (let i = 0; i < pa.length && same; i++) {
      const x = pa[i]!;
      const y = pb[i]!;
      if (i % 2 === 1) same = x === y;
      out += x === y ? x : WILDCARD;
    }
    if (same) return out;
  }
  return mergeByAffixes(a, b);
}

function isDelimiterChar(c: string): boolean {
  return "=:,()[]{}#@|;/-".includes(c);
}

/** Keeps the common prefix ending at a delimiter and the common suffix starting at one (`rhost=<*>`). */
function mergeByAffixes(a: string, b: string): string {
  let p = 0;
  const max = Math.min(a.length, b.length);
  while (p < max && a[p] === b[p]) p++;
  while (p > 0 && !isDelimiterChar(a[p - 1]!)) p--;
  let q = 0;
  while (q < max - p && a[a.length - 1 - q] === b[b.length - 1 - q]) q++;
  while (q > 0 && !isDelimiterChar(a[a.length - q]!)) q--;
  if (p === 0 && q === 0) return WILDCARD;
  return a.slice(0, p) + WILDCARD + a.slice(a.length - q);
}

function isVariableLike(tok: string): boolean {
  return tok.includes(WILDCARD);
}

/**
 * Token-type-aware similarity: agreeing positions score 1, a template variable facing a masked variable
 * scores 1 (Drain scores it 0, which keeps variable-heavy lines from ever joining), two tokens of one shape
 * (`rhost=<*>` vs `rhost=a.b`) score 1, a variable facing a plain word scores a half, two different words 0.
 * The count of `<*>` breaks ties.
 *
 * With `floor`, a template that can no longer reach it (each position left scores at most 1) is given up
 * early and scored -1: a leaf holds many templates of other messages of the same length, and most of
 * them are out of the running after a few positions.
 */
export function similarity(template: readonly string[], tokens: readonly string[], floor = 0): number {
  const n = template.length;
  if (n === 0) return 1;
  // the score a template must keep, counting the positions still to come as agreeing (scores are
  // multiples of a half, so the margin only absorbs the rounding of floor * n)
  const need = floor * n - n - 1e-9;
  let score = 0;
  for (let i = 0; i < n; i++) {
    const t = template[i]!;
    const s = tokens[i]!;
    if (t === s) score += 1;
    else if (t === WILDCARD) score += isVariableLike(s) ? 1 : WORD_VS_VARIABLE;
    else if (isVariableLike(t) || isVariableLike(s))
      score += mergeToken(t, s) !== WILDCARD ? 1 : VARIABLE_VS_WORD;
    if (score - i - 1 < need) return -1;
  }
  return score / n;
}

function digitShape(s: string): string {
  return s.replace(/\d+/g, "0");
}

function wildcards(template: readonly string[]): number {
  let n = 0;
  for (const t of template) if (t === WILDCARD) n++;
  return n;
}

export class TemplateMiner {
  readonly options: MinerOptions;
  private nextId = 1;
  private readonly leaves = new Map<string, Cluster[]>();
  private readonly byId = new Map<number, Cluster>();

  constructor(options: Partial<MinerOptions> = {}) {
    this.options = { ...DEFAULT_MINER_OPTIONS, ...options };
  }

  get clusters(): Cluster[] {
    return [...this.byId.values()];
  }

  cluster(id: number): Cluster | undefined {
    return this.byId.get(id);
  }

  /** Finds the best template for masked tokens without changing anything. */
  match(tokens: readonly string[]): Cluster | undefined {
    const leaf = this.leaves.get(leafKey(tokens, this.options.prefixTokens));
    if (!leaf) return undefined;
    let best: Cluster | undefined;
    let bestSim = -1;
    for (const c of leaf) {
      // a template below the threshold or below the best so far can win neither the match nor a tie
      const sim = similarity(c.tokens, tokens, Math.max(this.options.similarity, bestSim));
      // Drain's tie-break: the more general template
      if (sim > bestSim || (sim === bestSim && best && wildcards(c.tokens) > wildcards(best.tokens))) {
        best = c;
        bestSim = sim;
      }
    }
    return best && bestSim >= this.options.similarity ? best : undefined;
  }

  add(tokens: readonly string[]): MatchResult {
    const found = this.match(tokens);
    if (found) {
      found.count++;
      let changed = false;
      for (let i = 0; i < found.tokens.length; i++) {
        const t = found.tokens[i]!;
        if (t === tokens[i] || t === WILDCARD) continue;
        const merged = mergeToken(t, tokens[i]!);
        if (merged !== t) {
          found.constants[i] = isVariableLike(t) ? null : [t];
          found.tokens[i] = merged;
          changed = true;
        }
      }
      for (let i = 0; i < found.tokens.length; i++) {
        const seen = found.constants[i];
        if (!seen) continue;
        const tok = tokens[i]!;
        if (isVariableLike(tok)) continue;
        if (!seen.includes(tok)) {
          // `blk_1`/`blk_2`, `U01`/`U11`: one word with different numbers is a variable, not a choice
          const shape = digitShape(tok);
          if (seen.length >= this.options.maxConstants || seen.some((v) => digitShape(v) === shape)) {
            found.constants[i] = null;
            changed = true;
          } else seen.push(tok);
        }
      }
      return { cluster: found, changed };
    }
    const key = leafKey(tokens, this.options.prefixTokens);
    const cluster: Cluster = {
      id: this.nextId++,
      key,
      tokens: [...tokens],
      count: 1,
      constants: tokens.map(() => null),
    };
    let leaf = this.leaves.get(key);
    if (!leaf) {
      leaf = [];
      this.leaves.set(key, leaf);
    }
    leaf.push(cluster);
    this.byId.set(cluster.id, cluster);
    return { cluster, changed: true };
  }

  /**
   * The template of one line of a cluster: the cluster's template, with the line's own word kept at the
   * positions that are enumerations rather than variables.
   */
  templateFor(cluster: Cluster, tokens: readonly string[]): string[] {
    let out: string[] | undefined;
    for (let i = 0; i < cluster.tokens.length; i++) {
      const seen = cluster.constants[i];
      if (seen?.includes(tokens[i]!)) {
        out ??= [...cluster.tokens];
        out[i] = tokens[i]!;
      }
    }
    return out ?? cluster.tokens;
  }

  /**
   * The line's words at the cluster's enumeration positions (masked tokens just added to the cluster):
   * lines of a cluster with equal keys get the same `templateFor`, now and after any later change of the
   * cluster. A position that is no enumeration yet still holds the cluster's first word, which every line
   * so far has there and which would become its first constant; one that is a variable stays one; an
   * enumeration only ever gains words.
   */
  enumerationKey(cluster: Cluster, tokens: readonly string[]): string {
    let key = "";
    const constants = cluster.constants;
    for (let i = 0; i < constants.length; i++) {
      const seen = constants[i];
      if (seen) key += seen.includes(tokens[i]!) ? `${i}\u0001${tokens[i]}\u0001` : `${i}\u0001\u0002`;
    }
    return key;
  }

  /** Whether some line of the cluster would still get this template (a template split into tokens). */
  produces(cluster: Cluster, template: readonly string[]): boolean {
    if (template.length !== cluster.tokens.length) return false;
    for (let i = 0; i < template.length; i++) {
      const t = template[i]!;
      if (t !== cluster.tokens[i] && !cluster.constants[i]?.includes(t)) return false;
    }
    return true;
  }

  toJSON(): MinerState {
    return {
      version: 1,
      options: { ...this.options },
      nextId: this.nextId,
      clusters: this.clusters.map((c) => ({
        ...c,
        tokens: [...c.tokens],
        constants: c.constants.map((v) => (v ? [...v] : null)),
      })),
    };
  }

  static fromJSON(state: MinerState): TemplateMiner {
    if (state?.version !== 1 || !Array.isArray(state.clusters)) {
      throw new Error("template miner state: unsupported or malformed (expected version 1 with clusters)");
    }
    const miner = new TemplateMiner(state.options);
    miner.nextId = state.nextId;
    for (const c of state.clusters) {
      const cluster: Cluster = {
        id: c.id,
        key: c.key,
        tokens: [...c.tokens],
        count: c.count,
        constants: c.constants.map((v) => (v ? [...v] : null)),
      };
      let leaf = miner.leaves.get(c.key);
      if (!leaf) {
        leaf = [];
        miner.leaves.set(c.key, leaf);
      }
      leaf.push(cluster);
      miner.byId.set(c.id, cluster);
    }
    return miner;
  }
}
