import type { SyntaxNode } from "@lezer/common";
import { parser } from "@prometheus-io/lezer-promql";
import { parseDuration } from "../core/duration.js";
import type {
  AggregateOp,
  BinaryOp,
  Expr,
  LabelMatcher,
  MatchOp,
  VectorMatching,
  VectorSelector,
} from "./ast.js";

/** A query the evaluator cannot take: a syntax error or a construct outside the supported subset. */
export class PromqlError extends Error {
  constructor(
    message: string,
    readonly query: string,
    readonly position?: number,
  ) {
    super(
      position === undefined
        ? `${message} in ${JSON.stringify(query)}`
        : `${message} at position ${position} in ${JSON.stringify(query)}`,
    );
    this.name = "PromqlError";
  }
}

const AGGREGATES = new Set<string>(["sum", "avg", "min", "max", "count", "group"]);

const BINARY_OPS: Record<string, BinaryOp> = {
  Add: "+",
  Sub: "-",
  Mul: "*",
  Div: "/",
  Mod: "%",
  Pow: "^",
  Eql: "==",
  Neq: "!=",
  Gtr: ">",
  Lss: "<",
  Gte: ">=",
  Lte: "<=",
  And: "and",
  Or: "or",
  Unless: "unless",
};

/**
 * A duration literal inside a query, in milliseconds: a Prometheus duration or, as PromQL also allows
 * there (and only there), a number of seconds.
 */
function durationLiteral(text: string): number {
  const t = text.trim();
  if (/^[0-9]+(\.[0-9]+)?$/.test(t)) return Math.round(Number(t) * 1000);
  const ms = parseDuration(t);
  if (ms === undefined) throw new Error(`invalid duration ${JSON.stringify(text)}`);
  return ms;
}

function parseNumber(text: string): number {
  const t = text.trim();
  const sign = t.startsWith("-") ? -1 : 1;
  const body = t.replace(/^[+-]/, "");
  const lower = body.toLowerCase();
  if (lower === "inf") return sign * Number.POSITIVE_INFINITY;
  if (lower === "nan") return Number.NaN;
  if (/^0x[0-9a-f]+$/.test(lower)) return sign * Number.parseInt(lower.slice(2), 16);
  const n = Number(body);
  if (!Number.isNaN(n)) return sign * n;
  // Durations are valid number literals (in seconds) in PromQL 3.
  return (sign * durationLiteral(body)) / 1000;
}

function unquote(text: string): string {
  const q = text[0];
  const body = text.slice(1, -1);
  if (q === "`") return body;
  return body.replace(/\\(u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|[0-7]{3}|.)/g, (_m, e: string) => {
    switch (e[0]) {
      case "n":
        return "\n";
      case "t":
        return "\t";
      case "r":
        return "\r";
      case "a":
        return "\x07";
      case "b":
        return "\b";
      case "f":
        return "\f";
      case "v":
        return "\v";
      case "u":
      case "x":
        return String.fromCharCode(Number.parseInt(e.slice(1), 16));
      default:
        return /^[0-7]{3}$/.test(e) ? String.fromCharCode(Number.parseInt(e, 8)) : e;
    }
  });
}

function children(node: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (let c = node.firstChild; c; c = c.nextSibling) out.push(c);
  return out;
}

/** Parses PromQL into the evaluator's AST; throws `PromqlError` on a syntax error or an unsupported construct. */
export function parsePromql(query: string): Expr {
  const tree = parser.parse(query);
  let errorAt: number | undefined;
  tree.iterate({
    enter: (n) => {
      if (errorAt === undefined && n.type.isError) errorAt = n.from;
    },
  });
  if (errorAt !== undefined) throw new PromqlError("syntax error", query, errorAt);
  const top = tree.topNode.firstChild;
  if (!top) throw new PromqlError("empty query", query);
  const text = (n: SyntaxNode) => query.slice(n.from, n.to);
  const fail = (msg: string, n: SyntaxNode): never => {
    throw new PromqlError(msg, query, n.from);
  };

  const duration = (n: SyntaxNode): number => {
    const kids = children(n);
    if (n.name === "OffsetDurationExpr" && kids[0]?.name === "UnaryOp" && kids[1]) {
      const inner = duration(kids[1]);
      return text(kids[0]) === "-" ? -inner : inner;
    }
    if (kids.length === 1 && kids[0]) return duration(kids[0]);
    if (n.name === "NumberDurationLiteralInDurationContext" || n.name === "NumberDurationLiteral") {
      try {
        return durationLiteral(text(n));
      } catch (err) {
        return fail((err as Error).message, n);
      }
    }
    return fail(`unsupported duration expression ${JSON.stringify(text(n))}`, n);
  };

  const labelName = (n: SyntaxNode): string => {
    if (n.name === "QuotedLabelName") {
      const s = n.firstChild;
      return s ? unquote(text(s)) : fail("bad quoted label name", n);
    }
    return text(n);
  };

  const groupingLabels = (n: SyntaxNode): string[] =>
    children(n)
      .filter((c) => c.name === "LabelName" || c.name === "QuotedLabelName")
      .map(labelName);

  const selector = (n: SyntaxNode): VectorSelector => {
    let name: string | undefined;
    const matchers: LabelMatcher[] = [];
    for (const c of children(n)) {
      if (c.name === "Identifier") name = text(c);
      else if (c.name === "LabelMatchers") {
        for (const m of children(c)) {
          if (m.name === "QuotedLabelName") {
            name = labelName(m);
            continue;
          }
          if (m.name !== "UnquotedLabelMatcher" && m.name !== "QuotedLabelMatcher") continue;
          const parts = children(m);
          const [ln, op, value] = parts;
          if (!ln || !op || !value) fail("incomplete label matcher", m);
          const matcher: LabelMatcher = {
            name: labelName(ln!),
            op: text(op!) as MatchOp,
            value: unquote(text(value!)),
          };
          if (matcher.op === "=~" || matcher.op === "!~") {
            try {
              new RegExp(matcher.value);
            } catch (err) {
              fail(`invalid regular expression in matcher: ${(err as Error).message}`, m);
            }
          }
          if (matcher.name === "__name__" && matcher.op === "=") {
            if (name !== undefined && name !== matcher.value) fail("conflicting metric names", m);
            name = matcher.value;
          } else matchers.push(matcher);
        }
      }
    }
    if (name === undefined) {
      return fail("a selector needs a metric name (matching on __name__ with a regex is not supported)", n);
    }
    return { type: "vector", name, matchers, offsetMs: 0, span: { from: n.from, to: n.to } };
  };

  const expr = (n: SyntaxNode): Expr => {
    const kids = children(n);
    switch (n.name) {
      case "NumberDurationLiteral":
        return { type: "number", value: parseNumber(text(n)) };
      case "StringLiteral":
        return { type: "string", value: unquote(text(n)) };
      case "VectorSelector":
        return selector(n);
      case "MatrixSelector": {
        const [sel, dur] = kids;
        if (!sel || !dur) return fail("incomplete range selector", n);
        if (sel.name !== "VectorSelector") return fail("a range can only follow a selector", n);
        const s = selector(sel);
        return {
          type: "matrix",
          selector: s,
          rangeMs: duration(dur),
          offsetMs: 0,
          span: { from: n.from, to: n.to },
        };
      }
      case "SubqueryExpr": {
        const [inner, range, step] = kids;
        if (!inner || !range) return fail("incomplete subquery", n);
        return {
          type: "subquery",
          expr: expr(inner),
          rangeMs: duration(range),
          stepMs: step ? duration(step) : undefined,
          offsetMs: 0,
        };
      }
      case "OffsetExpr": {
        const target = kids[0];
        const off = kids.find((c) => c.name === "OffsetDurationExpr");
        if (!target || !off) return fail("incomplete offset", n);
        const inner = expr(target);
        const offsetMs = duration(off);
        if (inner.type === "vector" || inner.type === "subquery") return { ...inner, offsetMs };
        if (inner.type === "matrix") {
          return {
            ...inner,
            offsetMs,
            selector: { ...inner.selector, offsetMs },
            span: { from: inner.span.from, to: n.to },
          };
        }
        return fail("offset must follow a selector or a subquery", n);
      }
      case "StepInvariantExpr":
        return fail("the @ modifier is not supported", n);
      case "ParenExpr": {
        const inner = kids[0];
        return inner ? { type: "paren", expr: expr(inner) } : fail("empty parentheses", n);
      }
      case "UnaryExpr": {
        const [op, inner] = kids;
        if (!op || !inner) return fail("incomplete unary expression", n);
        return { type: "unary", op: text(op) === "-" ? "-" : "+", expr: expr(inner) };
      }
      case "AggregateExpr": {
        const opNode = kids.find((c) => c.name === "AggregateOp");
        const body = kids.find((c) => c.name === "FunctionCallBody");
        const mod = kids.find((c) => c.name === "AggregateModifier");
        if (!opNode || !body) return fail("incomplete aggregation", n);
        const op = text(opNode).toLowerCase();
        if (!AGGREGATES.has(op)) return fail(`aggregation ${op} is not supported`, opNode);
        const args = children(body);
        if (args.length !== 1 || !args[0]) return fail(`${op} takes exactly one argument`, body);
        let grouping: { mode: "by" | "without"; labels: string[] } | undefined;
        if (mod) {
          const [kw, labels] = children(mod);
          grouping = {
            mode: kw && text(kw).toLowerCase() === "without" ? "without" : "by",
            labels: labels ? groupingLabels(labels) : [],
          };
        }
        return { type: "aggregate", op: op as AggregateOp, expr: expr(args[0]), grouping };
      }
      case "FunctionCall": {
        const id = kids.find((c) => c.name === "FunctionIdentifier");
        const body = kids.find((c) => c.name === "FunctionCallBody");
        if (!id || !body) return fail("incomplete function call", n);
        return { type: "call", func: text(id), args: children(body).map(expr) };
      }
      case "BinaryExpr": {
        const [lhsNode, opNode, ...rest] = kids;
        if (!lhsNode || !opNode) return fail("incomplete binary expression", n);
        const op = BINARY_OPS[opNode.name];
        if (!op) return fail(`operator ${text(opNode)} is not supported`, opNode);
        let bool = false;
        let matching: VectorMatching | undefined;
        let rhsNode: SyntaxNode | undefined;
        for (const c of rest) {
          if (c.name === "BoolModifier") bool = true;
          else if (c.name === "MatchingModifierClause") {
            const parts = children(c);
            matching = { on: false, labels: [], include: [] };
            for (let i = 0; i < parts.length; i++) {
              const p = parts[i]!;
              const next = parts[i + 1];
              const nextLabels = next?.name === "GroupingLabels" ? groupingLabels(next) : undefined;
              if (p.name === "On" || p.name === "Ignoring") {
                matching.on = p.name === "On";
                matching.labels = nextLabels ?? [];
              } else if (p.name === "GroupLeft" || p.name === "GroupRight") {
                matching.group = p.name === "GroupLeft" ? "left" : "right";
                matching.include = nextLabels ?? [];
              } else if (p.name !== "GroupingLabels") {
                fail(`modifier ${text(p)} is not supported`, p);
              }
            }
          } else rhsNode = c;
        }
        if (!rhsNode) return fail("binary expression without a right-hand side", n);
        return { type: "binary", op, lhs: expr(lhsNode), rhs: expr(rhsNode), bool, matching };
      }
      default:
        return fail(`unsupported expression ${n.name}`, n);
    }
  };

  return expr(top);
}
