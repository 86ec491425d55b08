import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { Policy } from "../core/proposal.js";

/** Where a target repository keeps its policy. */
export const POLICY_PATH = ".slo-scout/policy.yml";

/** The built-in policy: the defaults of the `Policy` schema. */
export const DEFAULT_POLICY: Policy = Policy.parse({});

export class PolicyError extends Error {
  override name = "PolicyError";
}

/** Parses a policy file's text; a bad key or value names itself and the file. */
export function parsePolicy(text: string, source = POLICY_PATH): Policy {
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
  } catch (err) {
    throw new PolicyError(`${source}: not valid YAML (${(err as Error).message.split("\n")[0]})`);
  }
  const result = Policy.strict().safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const at = issue.path.length > 0 ? issue.path.join(".") : "(top level)";
    throw new PolicyError(`${source}: ${at}: ${issue.message}`);
  }
  return result.data;
}

/** The repository's policy, or the built-in one when it has none. */
export function loadPolicy(repoDir: string): { policy: Policy; source: string } {
  const file = join(repoDir, POLICY_PATH);
  if (!existsSync(file)) return { policy: DEFAULT_POLICY, source: "built-in defaults" };
  return { policy: parsePolicy(readFileSync(file, "utf8"), file), source: file };
}
