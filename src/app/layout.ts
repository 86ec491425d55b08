import { specPath } from "../generators/spec/from-proposals.js";

/**
 * Where SLO-Scout's files live in a team's repository. One place, so the use cases, the policy defaults and
 * `slo-scout generate -o rules` agree: `slo-scout generate slos/<service>.yml --default-slo-period <window>
 * -o rules` rewrites exactly the rule files an approval committed. (Branches are named by the git host.)
 */
export const LAYOUT = {
  spec: specPath,
  rules: (service: string) => `rules/${service}.rules.yml`,
  ruleTests: (service: string) => `rules/${service}.rules.test.yml`,
  // Dashboards and runbooks are placed by the generators: dashboards/<service>.json, runbooks/<service>/.
} as const;
