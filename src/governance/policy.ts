import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigFileError, parseConfigFile } from "../core/config-file.js";
import { Policy } from "../core/proposal.js";

/** Where a target repository keeps its policy. */
export const POLICY_PATH = ".slo-scout/policy.yml";

/** The built-in policy: the defaults of the `Policy` schema. */
export const DEFAULT_POLICY: Policy = Policy.parse({});

export class PolicyError extends ConfigFileError {
  override name = "PolicyError";
}

/** Parses a policy file's text; a bad key or value names itself, its line and the file. */
export function parsePolicy(text: string, source = POLICY_PATH): Policy {
  const parsed = parseConfigFile(text, Policy.strict());
  if (!parsed.ok) throw new PolicyError(source, parsed.line, parsed.message);
  return parsed.value;
}

/** The repository's policy, or the built-in one when it has none. */
export function loadPolicy(repoDir: string): { policy: Policy; source: string } {
  const file = join(repoDir, POLICY_PATH);
  if (!existsSync(file)) return { policy: DEFAULT_POLICY, source: "built-in defaults" };
  return { policy: parsePolicy(readFileSync(file, "utf8"), file), source: file };
}
