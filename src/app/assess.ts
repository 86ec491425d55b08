import { parse as parseYaml } from "yaml";
import { latestDataTime } from "../analysis/analyze.js";
import type { Policy } from "../core/proposal.js";
import { type DryRunReport, dryRun } from "../generators/validate/dry-run.js";
import type { ValidationReport } from "../generators/validate/index.js";
import { type BlastRadiusReport, blastRadius } from "../governance/blast-radius.js";
import { checkArtifacts, type Violation } from "../governance/guard.js";
import { pagesPer28d } from "../governance/pages.js";
import { DEFAULT_POLICY, POLICY_PATH, parsePolicy } from "../governance/policy.js";
import { StoreSource } from "../history/store-source.js";
import type { ChangeFile, GitHost } from "../store/ports.js";
import { listJourneys } from "../store/repos/services.js";
import { validateChangeFiles } from "./change-set.js";
import type { AppContext } from "./context.js";

const DAY_MS = 86_400_000;

/** What a reviewer needs before a change set may be committed. */
export interface Assessment {
  validation: ValidationReport;
  violations: Violation[];
  blastRadius: BlastRadiusReport;
  policySource: string;
}

/**
 * The repository's policy: the one its host's config carries, else its policy file at `ref` (default
 * branch when absent), else the built-in defaults.
 */
export async function repoPolicy(host: GitHost, ref?: string): Promise<{ policy: Policy; source: string }> {
  const configured = await host.policy?.();
  if (configured) return configured;
  const text = await host.readFile(POLICY_PATH, ref);
  if (text === undefined) return { policy: DEFAULT_POLICY, source: "built-in defaults" };
  return { policy: parsePolicy(text, POLICY_PATH), source: ref ? `${POLICY_PATH}@${ref}` : POLICY_PATH };
}

const isRuleFile = (f: ChangeFile) => /\.ya?ml$/.test(f.path) && /^\s*groups:/m.test(f.content);

/**
 * Pages per service over 28 days had these rules existed: a dry-run of their alerts over the last 28 days
 * of history (the configured Prometheus, else the stored samples). Undefined when there is no history.
 */
async function dryRunPages(
  app: AppContext,
  files: ChangeFile[],
): Promise<Record<string, number> | undefined> {
  const rules = files.filter(isRuleFile);
  if (rules.length === 0) return undefined;
  const prometheusUrl = app.config.PROMETHEUS_URL;
  const endMs = prometheusUrl ? app.now() : await latestDataTime(app.sql);
  if (endMs === undefined) return undefined;
  const reports: DryRunReport[] = [];
  for (const f of rules) {
    reports.push(
      await dryRun(parseYaml(f.content), {
        startMs: endMs - 28 * DAY_MS,
        endMs,
        ...(prometheusUrl
          ? { prometheusUrl, prometheusRead: app.config.PROMETHEUS_READ }
          : { source: new StoreSource(app.sql) }),
      }),
    );
  }
  return pagesPer28d(reports);
}

/**
 * Validates a change set, dry-runs its alerts, checks it against the repository's policy and measures its
 * blast radius against what the repository holds at `ref`. The one path for an approval and for a
 * hand-edited spec under review.
 */
export async function assess(
  app: AppContext,
  host: GitHost,
  files: ChangeFile[],
  ref: string | undefined,
  { policy, source }: { policy: Policy; source: string },
): Promise<Assessment> {
  const validation = await validateChangeFiles(files);
  const pages = validation.ok ? await dryRunPages(app, files) : undefined;
  const existing: ChangeFile[] = [];
  for (const f of files) {
    const content = await host.readFile(f.path, ref);
    if (content !== undefined) existing.push({ path: f.path, content });
  }
  const journeys = await listJourneys(app.sql);
  return {
    validation,
    violations: checkArtifacts(policy, files, pages ? { pagesPer28d: pages } : {}),
    blastRadius: blastRadius({
      changes: files,
      existing,
      journeys,
      ...(pages ? { pagesPer28d: pages } : {}),
    }),
    policySource: source,
  };
}
