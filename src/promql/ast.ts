/**
 * The small PromQL AST the evaluator works on. It covers what SLO rules use (selectors, range and
 * subquery expressions, the common range/instant functions, aggregations, binary operators with vector
 * matching); `parsePromql` rejects anything else with a message naming the construct.
 */

export type MatchOp = "=" | "!=" | "=~" | "!~";

export interface LabelMatcher {
  name: string;
  op: MatchOp;
  value: string;
}

/** Half-open character range of a node in the source text (used to rewrite queries in place). */
export interface Span {
  from: number;
  to: number;
}

export interface NumberLiteral {
  type: "number";
  value: number;
}

export interface StringLiteral {
  type: "string";
  value: string;
}

export interface VectorSelector {
  type: "vector";
  /** Metric name from the identifier or an `__name__="…"` matcher. */
  name: string;
  /** Matchers other than the metric-name equality. */
  matchers: LabelMatcher[];
  offsetMs: number;
  span: Span;
}

export interface MatrixSelector {
  type: "matrix";
  selector: VectorSelector;
  rangeMs: number;
  offsetMs: number;
  span: Span;
}

export interface Subquery {
  type: "subquery";
  expr: Expr;
  rangeMs: number;
  /** Undefined: the evaluator's default subquery step (Prometheus's global evaluation interval). */
  stepMs?: number;
  offsetMs: number;
}

export type AggregateOp = "sum" | "avg" | "min" | "max" | "count" | "group";

export interface Aggregate {
  type: "aggregate";
  op: AggregateOp;
  expr: Expr;
  grouping?: { mode: "by" | "without"; labels: string[] };
}

export type ArithmeticOp = "+" | "-" | "*" | "/" | "%" | "^";
export type ComparisonOp = "==" | "!=" | ">" | "<" | ">=" | "<=";
export type SetOp = "and" | "or" | "unless";
export type BinaryOp = ArithmeticOp | ComparisonOp | SetOp;

export interface VectorMatching {
  /** `on(…)` when true, `ignoring(…)` (or no clause) when false. */
  on: boolean;
  labels: string[];
  /** `group_left` (many-to-one) or `group_right` (one-to-many); undefined for one-to-one. */
  group?: "left" | "right";
  include: string[];
}

export interface Binary {
  type: "binary";
  op: BinaryOp;
  lhs: Expr;
  rhs: Expr;
  bool: boolean;
  matching?: VectorMatching;
}

export interface Unary {
  type: "unary";
  op: "-" | "+";
  expr: Expr;
}

export interface Call {
  type: "call";
  func: string;
  args: Expr[];
}

export interface Paren {
  type: "paren";
  expr: Expr;
}

export type Expr =
  | NumberLiteral
  | StringLiteral
  | VectorSelector
  | MatrixSelector
  | Subquery
  | Aggregate
  | Binary
  | Unary
  | Call
  | Paren;

export const COMPARISON_OPS: ReadonlySet<string> = new Set(["==", "!=", ">", "<", ">=", "<="]);
export const SET_OPS: ReadonlySet<string> = new Set(["and", "or", "unless"]);

/** Calls `visit` on every node of `expr`, parents before children. */
export function walk(expr: Expr, visit: (node: Expr) => void): void {
  visit(expr);
  switch (expr.type) {
    case "matrix":
      walk(expr.selector, visit);
      return;
    case "subquery":
    case "aggregate":
    case "unary":
    case "paren":
      walk(expr.expr, visit);
      return;
    case "binary":
      walk(expr.lhs, visit);
      walk(expr.rhs, visit);
      return;
    case "call":
      for (const a of expr.args) walk(a, visit);
      return;
    default:
      return;
  }
}
