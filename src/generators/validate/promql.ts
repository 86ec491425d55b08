import { parser } from "@prometheus-io/lezer-promql";

/** PromQL syntax check with Prometheus' own lezer grammar (the one its web UI uses). */

export interface PromqlError {
  /** Offset into the expression where the parser gave up. */
  offset: number;
  message: string;
}

function context(expr: string, at: number): string {
  const start = Math.max(0, at - 20);
  const snippet = expr.slice(start, at + 20).replace(/\s+/g, " ");
  return `${start > 0 ? "…" : ""}${snippet}${at + 20 < expr.length ? "…" : ""}`;
}

/** Returns the syntax errors of a PromQL expression; an empty list means it parses. */
export function promqlErrors(expr: string): PromqlError[] {
  if (expr.trim() === "") return [{ offset: 0, message: "empty expression" }];
  const errors: PromqlError[] = [];
  parser.parse(expr).iterate({
    enter: (node) => {
      if (node.type.isError) {
        const at = node.from;
        const found = at >= expr.length ? "end of expression" : JSON.stringify(expr.slice(at, at + 12));
        errors.push({
          offset: at,
          message: `unexpected ${found} at offset ${at} (near: ${context(expr, at)})`,
        });
      }
    },
  });
  return errors;
}

/** Line (1-based, within the expression) of an offset, for pointing at multi-line expressions. */
export function lineOfOffset(expr: string, offset: number): number {
  return expr.slice(0, offset).split("\n").length;
}
