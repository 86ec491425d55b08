import { parse as parseYaml } from "yaml";
import type { Artifact } from "../core/proposal.js";
import { type VectorSelector, walk } from "../promql/ast.js";
import { parsePromql } from "../promql/parse.js";

/** The alerting rules in a set of artifacts (or files of a repository), with where each came from. */
export interface AlertInFile {
  path: string;
  group: string;
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** The service the alert is about, when its labels, expression or recording rules name one. */
  service?: string;
}

interface RecordingInFile {
  record: string;
  labels: Record<string, string>;
}

/**
 * Rule files are YAML with a top-level `groups:` list; anything else (dashboards, runbooks) has no alerts.
 * Each alert's service is resolved across all `files` (see `resolveService`).
 */
export function alertsOf(files: Pick<Artifact, "path" | "content">[]): AlertInFile[] {
  const { alerts, recordings } = rulesOf(files);
  return alerts.map((a) => {
    const service = resolveService(a, recordings);
    return service ? { ...a, service } : a;
  });
}

function rulesOf(files: Pick<Artifact, "path" | "content">[]) {
  const out: AlertInFile[] = [];
  const recordings: RecordingInFile[] = [];
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
        if (typeof r.record === "string") recordings.push({ record: r.record, labels: stringMap(r.labels) });
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
  return { alerts: out, recordings };
}

function stringMap(v: unknown): Record<string, string> {
  if (!v || typeof v !== "object") return {};
  return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, String(x)]));
}

const SERVICE_LABELS = ["sloth_service", "service", "job"] as const;

const serviceLabel = (labels: Record<string, string>) =>
  SERVICE_LABELS.map((l) => labels[l]).find((v) => v !== undefined && v !== "");

/** The vector selectors of an expression; none when the evaluator's parser does not know a construct in it. */
function selectorsOf(expr: string): VectorSelector[] {
  const out: VectorSelector[] = [];
  try {
    walk(parsePromql(expr), (n) => {
      if (n.type === "vector") out.push(n);
    });
  } catch {
    return [];
  }
  return out;
}

/**
 * The service an alert is about, by its own labels, else by the `sloth_service`/`service` equality matchers
 * in its expression (Sloth's alerts carry the service only there), else by the labels of the recording
 * rules its expression selects. The first service found wins.
 */
export function resolveService(
  a: Pick<AlertInFile, "labels" | "expr">,
  recordings: readonly RecordingInFile[] = [],
): string | undefined {
  const own = serviceLabel(a.labels);
  if (own) return own;
  const selectors = selectorsOf(a.expr);
  for (const sel of selectors) {
    const m = sel.matchers.find((x) => x.op === "=" && (x.name === "sloth_service" || x.name === "service"));
    if (m?.value) return m.value;
  }
  for (const sel of selectors) {
    const equal = sel.matchers.filter((x) => x.op === "=");
    const rule = recordings.find(
      (r) =>
        r.record === sel.name && equal.every((x) => r.labels[x.name] === x.value) && serviceLabel(r.labels),
    );
    if (rule) return serviceLabel(rule.labels);
  }
  return undefined;
}

/** The service an alert is about (resolved by `alertsOf`). */
export function serviceOf(a: AlertInFile): string | undefined {
  return a.service ?? serviceLabel(a.labels);
}

/** The severity an alert routes by (Sloth puts `severity` in its page/ticket labels, `sloth_severity` on the rule). */
export function severityOf(a: AlertInFile): string | undefined {
  return a.labels.severity ?? a.labels.sloth_severity;
}
