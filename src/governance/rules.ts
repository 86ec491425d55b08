import { parse as parseYaml } from "yaml";
import type { Artifact } from "../core/proposal.js";

/** The alerting rules in a set of artifacts (or files of a repository), with where each came from. */
export interface AlertInFile {
  path: string;
  group: string;
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** Rule files are YAML with a top-level `groups:` list; anything else (dashboards, runbooks) has no alerts. */
export function alertsOf(files: Pick<Artifact, "path" | "content">[]): AlertInFile[] {
  const out: AlertInFile[] = [];
  for (const f of files) {
    if (!/\.ya?ml$/i.test(f.path)) continue;
    let doc: unknown;
    try {
      doc = parseYaml(f.content);
    } catch {
      continue;
    }
    const groups = (doc as { groups?: unknown })?.groups;
    if (!Array.isArray(groups)) continue;
    for (const g of groups as { name?: string; rules?: Record<string, unknown>[] }[]) {
      for (const r of g.rules ?? []) {
        if (typeof r.alert !== "string") continue;
        out.push({
          path: f.path,
          group: String(g.name ?? ""),
          alert: r.alert,
          expr: String(r.expr ?? ""),
          ...(r.for !== undefined ? { for: String(r.for) } : {}),
          labels: stringMap(r.labels),
          annotations: stringMap(r.annotations),
        });
      }
    }
  }
  return out;
}

function stringMap(v: unknown): Record<string, string> {
  if (!v || typeof v !== "object") return {};
  return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, String(x)]));
}

/** The service an alert is about, by Sloth's label or the common ones. */
export function serviceOf(a: AlertInFile): string | undefined {
  return a.labels.sloth_service ?? a.labels.service ?? a.labels.job;
}

/** The severity an alert routes by (Sloth puts `severity` in its page/ticket labels, `sloth_severity` on the rule). */
export function severityOf(a: AlertInFile): string | undefined {
  return a.labels.severity ?? a.labels.sloth_severity;
}
