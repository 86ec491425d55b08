import { code, md } from "../../app/markdown-escape.js";
import type { Outcome } from "../../app/outcome.js";
import type { Review } from "../../app/review.js";

/**
 * A spec pull request's review as GitHub shows it: a Check Run (conclusion, title, summary, annotations at
 * file:line) and the sticky summary comment. Pure: the review use case's outcome in, text out.
 */

export interface Annotation {
  path: string;
  start_line: number;
  end_line: number;
  annotation_level: "failure" | "warning" | "notice";
  message: string;
}

export interface ReviewReport {
  conclusion: "success" | "failure";
  title: string;
  /** Markdown for the Check Run's summary and the sticky comment. */
  summary: string;
  annotations: Annotation[];
}

/** GitHub takes at most 50 annotations per request and 65,535 characters of summary. */
const MAX_ANNOTATIONS = 50;
const MAX_SUMMARY = 60_000;
const LOCATED = /^([^\s:]+):(\d+): (.+)$/s;

/** `file:line: message` as the validators and spec loader write them; other messages have no place. */
function locate(message: string, fallbackPath: string): Annotation {
  const m = LOCATED.exec(message);
  const path = m?.[1] ?? fallbackPath;
  const line = m ? Number(m[2]) : 1;
  return {
    path,
    start_line: line,
    end_line: line,
    annotation_level: "failure",
    message: (m?.[3] ?? message).slice(0, 4000),
  };
}

export function reviewReport(outcome: Outcome<Review>, specs: string[]): ReviewReport {
  const first = specs[0] ?? "slos";
  if (!outcome.ok) {
    const details = outcome.refusal.details ?? [];
    return {
      conclusion: "failure",
      title: "SLO spec does not load",
      summary: clip(
        [
          `### ❌ ${md(outcome.refusal.reason)}`,
          "",
          ...details.map((d) => `- ${md(d)}`),
          "",
          "Fix the spec and push; the review runs again on every push (or comment `/slo-scout plan`).",
        ].join("\n"),
      ),
      annotations: (details.length > 0 ? details : [outcome.refusal.reason])
        .map((d) => locate(d, first))
        .slice(0, MAX_ANNOTATIONS),
    };
  }
  const r = outcome.value;
  const a = r.assessment;
  const annotations: Annotation[] = [];
  const lines: string[] = [];
  const stale = r.regeneration.flatMap((g) =>
    g.files.filter((f) => f.status !== "current").map((f) => ({ ...f, spec: g.spec, period: g.period })),
  );
  for (const s of stale) {
    const fix = `slo-scout generate ${s.spec} --default-slo-period ${s.period} -o rules`;
    annotations.push({
      path: s.spec,
      start_line: 1,
      end_line: 1,
      annotation_level: "failure",
      message: `${s.path} is ${s.status === "stale" ? "stale (it was not regenerated from this spec)" : "missing"}; run: ${fix}`,
    });
  }
  for (const m of a.validation.messages) annotations.push(locate(m, first));
  for (const v of a.violations)
    annotations.push(locate(`${v.path ?? first}:1: [${v.rule}] ${v.message}`, first));

  lines.push(
    r.ok ? "### ✅ The SLO specs are valid and their rules current" : "### ❌ The SLO specs need work",
  );
  lines.push("");
  lines.push("| Check | Result |", "|---|---|");
  lines.push(
    `| Rules regenerated from the specs | ${stale.length === 0 ? "✅ current" : `❌ ${stale.length} stale or missing`} |`,
  );
  lines.push(
    `| Validation (PromQL, promtool check and test, dashboard, runbook) | ${a.validation.ok ? "✅ passed" : `❌ ${a.validation.messages.length} problem${a.validation.messages.length === 1 ? "" : "s"}`} |`,
  );
  lines.push(
    `| Policy (${md(a.policySource)}) | ${a.violations.length === 0 ? "✅ allowed" : `❌ ${a.violations.length} violation${a.violations.length === 1 ? "" : "s"}`} |`,
  );
  lines.push("");
  for (const s of stale) {
    lines.push(
      `- ${code(s.path)} is ${s.status}: run ${code(`slo-scout generate ${s.spec} --default-slo-period ${s.period} -o rules`)} and commit the result`,
    );
  }
  for (const m of a.validation.messages.slice(0, 20)) lines.push(`- ${md(m)}`);
  for (const v of a.violations) lines.push(`- [${v.rule}] ${md(v.message)}`);
  const b = a.blastRadius;
  lines.push("", "#### Blast radius", "");
  lines.push(`- Services: ${b.services.length ? b.services.map(code).join(", ") : "none"}`);
  lines.push(`- Journeys covered: ${b.journeys.length ? b.journeys.map(code).join(", ") : "none"}`);
  if (b.dependents.length) lines.push(`- Downstream dependents: ${b.dependents.map(code).join(", ")}`);
  lines.push(
    `- Alerts: ${b.alerts.added.length} added, ${b.alerts.changed.length} changed, ${b.alerts.removed.length} removed, ${b.alerts.unchanged} unchanged`,
  );
  lines.push(
    b.pagesPerMonth !== undefined
      ? `- Expected pages a month (dry-run on stored history): ${(Math.round(b.pagesPerMonth * 10) / 10).toString()}`
      : "- Expected pages a month: no stored history to dry-run on",
  );
  for (const route of b.routes.slice(0, 10))
    lines.push(`- Routed to ${code(route.receiver)} via ${code(route.via)}: ${route.alerts.length} alerts`);
  lines.push("", "Comment `/slo-scout plan` to run this review again.");
  return {
    conclusion: r.ok ? "success" : "failure",
    title: r.ok
      ? `SLO specs valid; ${b.alerts.added.length + b.alerts.changed.length} alerts added or changed`
      : `${annotations.length} problem${annotations.length === 1 ? "" : "s"} in the SLO specs`,
    summary: clip(lines.join("\n")),
    annotations: annotations.slice(0, MAX_ANNOTATIONS),
  };
}

const clip = (s: string) => (s.length > MAX_SUMMARY ? `${s.slice(0, MAX_SUMMARY)}\n\n… (cut)` : s);
