import { isNode, LineCounter, parseDocument } from "yaml";
import type { z } from "zod";

/**
 * A repository's SLO-Scout file (its policy, a GitHub repository's `.github/slo-scout.yml`) that cannot be
 * used as it stands: the file, the line at fault (1-based) and what is wrong. Thrown where such a file is
 * read on the way to a use case; the use case answers it as a refusal naming the file and the line, so
 * every chat, the API and the CLI say the same thing.
 */
export class ConfigFileError extends Error {
  override name = "ConfigFileError";
  constructor(
    readonly file: string,
    readonly line: number,
    readonly problem: string,
  ) {
    super(`${file} line ${line}: ${problem}`);
  }
}

export type ParsedConfigFile<T> = { ok: true; value: T } | { ok: false; line: number; message: string };

/** Parses a YAML file's text with its schema; an error names its line (1-based) and the key. */
export function parseConfigFile<S extends z.ZodType>(text: string, schema: S): ParsedConfigFile<z.output<S>> {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const yamlError = doc.errors[0];
  if (yamlError) {
    const line = lines.linePos(yamlError.pos[0]).line;
    return { ok: false, line, message: `not valid YAML: ${yamlError.message.split("\n")[0]}` };
  }
  const result = schema.safeParse(doc.toJS() ?? {});
  if (result.success) return { ok: true, value: result.data };
  const issue = result.error.issues[0]!;
  // The deepest node that exists along the issue's path: an unknown key points at its parent's map.
  let node: unknown;
  for (let n = issue.path.length; n >= 0 && !isNode(node); n--) {
    node = n === 0 ? doc.contents : doc.getIn(issue.path.slice(0, n) as (string | number)[], true);
  }
  const offset = isNode(node) && node.range ? node.range[0] : 0;
  const keys =
    issue.code === "unrecognized_keys"
      ? ` (unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.join(", ")})`
      : "";
  const at = issue.path.length > 0 ? issue.path.join(".") : "top level";
  return { ok: false, line: lines.linePos(offset).line, message: `${at}: ${issue.message}${keys}` };
}
