import { isNode, LineCounter, parseDocument } from "yaml";
import { z } from "zod";
import { Policy } from "../../core/proposal.js";

/**
 * A repository's SLO-Scout settings, `.github/slo-scout.yml` on its default branch (like Renovate's and
 * Dependabot's files): which telemetry services belong to the repository, which paths hold SLO specs,
 * the labels of SLO-Scout's pull requests, and the policy. Every key is optional; a repository without the
 * file gets the defaults. A bad file is reported with the line of the key at fault.
 */

export const REPO_CONFIG_PATH = ".github/slo-scout.yml";

const SERVICE = /^[a-z0-9][a-z0-9._-]{0,62}$/;

export const RepoConfig = z
  .object({
    /** Telemetry service names whose SLOs live in this repository; empty: any service. */
    services: z
      .array(z.string().regex(SERVICE, "must be a service name: lowercase letters, digits, '.', '_', '-'"))
      .default([]),
    /** Globs of the SLO specs a pull request is reviewed for. */
    specPaths: z.array(z.string().min(1)).min(1).default(["slos/**/*.yml", "slos/**/*.yaml"]),
    /** Labels of the pull requests SLO-Scout opens. */
    labels: z.array(z.string().min(1).max(50)).max(10).default(["slo-scout"]),
    /** The policy (approvers, allowed paths, page budget…); the repository's .slo-scout/policy.yml when absent. */
    policy: Policy.strict().optional(),
  })
  .strict();
export type RepoConfig = z.infer<typeof RepoConfig>;

export const DEFAULT_REPO_CONFIG: RepoConfig = RepoConfig.parse({});

export type ParsedRepoConfig =
  | { ok: true; config: RepoConfig }
  | { ok: false; line: number; message: string };

/** Parses the file's text; an error names its line (1-based) and the key. */
export function parseRepoConfig(text: string): ParsedRepoConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const yamlError = doc.errors[0];
  if (yamlError) {
    const line = lines.linePos(yamlError.pos[0]).line;
    return { ok: false, line, message: `not valid YAML: ${yamlError.message.split("\n")[0]}` };
  }
  const result = RepoConfig.safeParse(doc.toJS() ?? {});
  if (result.success) return { ok: true, config: result.data };
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
