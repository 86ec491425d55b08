import { z } from "zod";
import { parseConfigFile } from "../../core/config-file.js";
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
  const parsed = parseConfigFile(text, RepoConfig);
  return parsed.ok ? { ok: true, config: parsed.value } : parsed;
}
