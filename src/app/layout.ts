import { specPath } from "../generators/spec/from-proposals.js";

/**
 * Where SLO-Scout's files live in a team's repository. One place, so the use cases, the policy defaults and
 * `slo-scout generate -o rules` agree: `slo-scout generate slos/<service>.yml -o rules` rewrites exactly the
 * rule files an approval committed.
 */
export const LAYOUT = {
  spec: specPath,
  rules: (service: string) => `rules/${service}.rules.yml`,
  ruleTests: (service: string) => `rules/${service}.rules.test.yml`,
  // Dashboards and runbooks are placed by the generators: dashboards/<service>.json, runbooks/<service>/.
} as const;

/** A change's branch: one per service, so a second approval of the same service updates it. */
export const changeBranch = (service: string) => `slo-scout/${service}`;
