import { ConfigFileError } from "../core/config-file.js";
import { type ChangeFile, GitHostError } from "../store/ports.js";
import type { Assessment } from "./assess.js";
import { assess, repoPolicy } from "./assess.js";
import { buildChangeSet } from "./change-set.js";
import type { AppContext } from "./context.js";
import { LAYOUT } from "./layout.js";
import { done, type Outcome, refuse, refuseConfigFile } from "./outcome.js";

export interface RegenerationCheck {
  spec: string;
  service: string;
  period: string;
  /** Each rule file the spec generates, and whether the change holds it as generated. */
  files: { path: string; status: "current" | "stale" | "missing" }[];
}

export interface Review {
  regeneration: RegenerationCheck[];
  assessment: Assessment;
  /** True when every rule file is current, everything validates and the policy allows it. */
  ok: boolean;
}

/** Sloth's default, used when a spec does not say which period it was approved on. */
const DEFAULT_PERIOD = "30d";

/**
 * The period a spec was approved on: SLO-Scout writes it into the spec's header as the `generate` command
 * to run (a Sloth spec has no period field); a hand-written spec gets Sloth's default.
 */
export function specPeriod(text: string): string {
  return /--default-slo-period\s+(\d+[smhdwy])\b/.exec(text)?.[1] ?? DEFAULT_PERIOD;
}

const specOf = (path: string) => /^slos\/([a-z0-9][a-z0-9._-]*)\.ya?ml$/.exec(path)?.[1];

/**
 * Reviews a change the way a pull request that edits SLO files is reviewed: every spec under slos/ is
 * regenerated and compared with the rule files the change holds (a hand-edited spec whose rules were not
 * regenerated is stale), then the files as they would be after regeneration are validated, checked
 * against the repository's policy and measured for blast radius against `baseRef`.
 */
export async function review(
  app: AppContext,
  files: ChangeFile[],
  opts: { baseRef?: string } = {},
): Promise<Outcome<Review>> {
  try {
    return await reviewAt(app, files, opts);
  } catch (err) {
    if (err instanceof ConfigFileError) return refuseConfigFile(err);
    // An unknown base ref or a path the host will not read is the asker's to fix, not an outage.
    if (err instanceof GitHostError && ["unknown-ref", "bad-path", "bad-request"].includes(err.code))
      return refuse(err.code === "unknown-ref" ? "unknown-id" : "bad-request", err.message);
    throw err;
  }
}

async function reviewAt(
  app: AppContext,
  files: ChangeFile[],
  opts: { baseRef?: string },
): Promise<Outcome<Review>> {
  const host = await app.gitHost();
  const byPath = new Map(files.map((f) => [f.path, f]));
  const regeneration: RegenerationCheck[] = [];
  const result = new Map(byPath);
  for (const f of files) {
    const service = specOf(f.path);
    if (!service) continue;
    const period = specPeriod(f.content);
    const built = buildChangeSet(service, f, { period });
    if (!built.ok) return built;
    const rules = built.value.files.filter((g) =>
      [LAYOUT.rules(service), LAYOUT.ruleTests(service)].includes(g.path),
    );
    regeneration.push({
      spec: f.path,
      service,
      period,
      files: rules.map((g) => {
        const held = byPath.get(g.path);
        return {
          path: g.path,
          status: held === undefined ? "missing" : held.content === g.content ? "current" : "stale",
        };
      }),
    });
    for (const g of rules) result.set(g.path, g);
  }
  const policy = await repoPolicy(host, opts.baseRef);
  const assessment = await assess(app, host, [...result.values()], opts.baseRef, policy);
  const current = regeneration.every((r) => r.files.every((f) => f.status === "current"));
  return done({
    regeneration,
    assessment,
    ok: current && assessment.validation.ok && assessment.violations.length === 0,
  });
}
