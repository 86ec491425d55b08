import picomatch from "picomatch";
import type { Artifact, Policy } from "../core/proposal.js";
import { alertsOf, serviceOf, severityOf } from "./rules.js";

/**
 * The policy guard: every reason a change set may not be committed, each naming the rule it breaks.
 * An empty list means the artifacts may go ahead (approval is checked apart, see `checkApproval`).
 */
export interface Violation {
  rule:
    | "allowed-paths"
    | "allowed-severities"
    | "required-labels"
    | "max-pages"
    | "approvers"
    | "second-approver";
  path?: string;
  message: string;
}

export interface GuardContext {
  /** Expected pages per service over 28 days, from the dry-run. */
  pagesPer28d?: Record<string, number>;
}

export function checkArtifacts(
  policy: Policy,
  artifacts: Pick<Artifact, "path" | "content">[],
  ctx: GuardContext = {},
): Violation[] {
  const out: Violation[] = [];
  const allowed = picomatch(policy.allowedPaths, { dot: true });
  for (const a of artifacts) {
    const clean = a.path.replace(/^\.\/+/, "");
    if (clean.split("/").includes("..") || clean.startsWith("/") || !allowed(clean)) {
      out.push({
        rule: "allowed-paths",
        path: a.path,
        message: `${a.path} is outside the allowed artifact paths (${policy.allowedPaths.join(", ")})`,
      });
    }
  }
  for (const alert of alertsOf(artifacts)) {
    const severity = severityOf(alert);
    if (severity !== undefined && !policy.allowedSeverities.includes(severity)) {
      out.push({
        rule: "allowed-severities",
        path: alert.path,
        message: `alert ${alert.alert} has severity "${severity}"; the policy allows ${policy.allowedSeverities.join(", ")}`,
      });
    }
    const missing = policy.requiredLabels.filter((l) => !alert.labels[l]);
    if (missing.length > 0) {
      out.push({
        rule: "required-labels",
        path: alert.path,
        message: `alert ${alert.alert} lacks the required label${missing.length > 1 ? "s" : ""} ${missing.join(", ")}`,
      });
    }
  }
  if (policy.maxPagesPer28d !== undefined && ctx.pagesPer28d) {
    const services = new Set(
      alertsOf(artifacts)
        .map(serviceOf)
        .filter((s): s is string => s !== undefined),
    );
    for (const service of services) {
      const pages = ctx.pagesPer28d[service] ?? 0;
      if (pages > policy.maxPagesPer28d) {
        out.push({
          rule: "max-pages",
          message: `${service} would have paged ${round(pages)} times in 28 days (dry-run); the policy allows at most ${policy.maxPagesPer28d}`,
        });
      }
    }
  }
  return out;
}

export interface Approver {
  /** GitHub/GitLab login, or a Slack user id. */
  id: string;
  teams?: string[];
  /** Other names the host vouches for (a Slack user's e-mail), matched against `approvers.users`. */
  aliases?: string[];
}

/** Whether the approvals on a change satisfy the policy. */
export function checkApproval(policy: Policy, requester: string, approvers: Approver[]): Violation[] {
  const out: Violation[] = [];
  const { users, teams, slackUserIds } = policy.approvers;
  const restricted = users.length + teams.length + slackUserIds.length > 0;
  const authorized = approvers.filter(
    (a) =>
      !restricted ||
      users.includes(a.id) ||
      (a.aliases ?? []).some((alias) => users.includes(alias)) ||
      slackUserIds.includes(a.id) ||
      (a.teams ?? []).some((t) => teams.includes(t)),
  );
  for (const a of approvers) {
    if (!authorized.includes(a)) {
      out.push({ rule: "approvers", message: `${a.id} is not an allowed approver under the policy` });
    }
  }
  if (authorized.length === 0) {
    out.push({ rule: "approvers", message: "no authorized approval yet" });
  } else if (policy.requireSecondApprover && authorized.every((a) => a.id === requester)) {
    out.push({
      rule: "second-approver",
      message: `the policy requires an approver other than the requester (${requester})`,
    });
  }
  return out;
}

const round = (n: number) => Math.round(n * 10) / 10;
