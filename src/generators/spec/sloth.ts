import { parseDuration } from "../../core/duration.js";
import type { AlertSpec, Slo } from "../../core/slo.js";
import { toYaml } from "../rules-yaml.js";
import { finishSlo, lineAt, type Path, Reader, type SpecDoc, type SpecIssue } from "./source.js";

/**
 * Sloth's spec formats: `version: prometheus/v1` (snake_case) and the Kubernetes CRD
 * `sloth.slok.dev/v1` `PrometheusServiceLevel` (camelCase, under `spec:`). Both spellings are accepted in
 * either, as Sloth's decoder does. Extensions Sloth ignores: `alerting.min_events` (low-traffic guard) and
 * `page_alert.for` / `ticket_alert.for`.
 */

export const SLOTH_V1 = "prometheus/v1";
export const SLOTH_K8S_V1 = "sloth.slok.dev/v1";

export function isSlothSpec(data: unknown): boolean {
  const d = data as Record<string, unknown> | null;
  return (
    !!d && (d.version === SLOTH_V1 || (d.apiVersion === SLOTH_K8S_V1 && d.kind === "PrometheusServiceLevel"))
  );
}

export interface LoadOptions {
  /** The period for specs that carry none (Sloth's `--default-slo-period`). */
  defaultPeriod: string;
}

function alertSpec(
  r: Reader,
  alerting: unknown,
  path: Path,
  keys: string[],
): { spec: AlertSpec; path: Path } {
  const { value, path: p } = r.object(alerting, path, keys);
  const spec: AlertSpec = {
    disable: r.bool(value, p, ["disable"]),
    labels: r.stringMap(value, p, ["labels"]),
    annotations: r.stringMap(value, p, ["annotations"]),
  };
  const forValue = r.string(value, p, ["for"]);
  if (forValue !== undefined) spec.for = forValue;
  return { spec, path: p };
}

export function loadSlothSpec(sd: SpecDoc, opts: LoadOptions): { slos: Slo[]; issues: SpecIssue[] } {
  const r = new Reader(sd);
  const root = sd.data as Record<string, unknown>;
  const isK8s = root.apiVersion === SLOTH_K8S_V1;
  const base: Path = isK8s ? ["spec"] : [];
  const spec = isK8s ? r.object(root, [], ["spec"]).value : root;
  const service = r.string(spec, base, ["service"], true) ?? "";
  const globalLabels = r.stringMap(spec, base, ["labels"]);
  const { value: slos, path: slosPath } = r.list(spec, base, ["slos"]);
  if (slos.length === 0) r.issue(slosPath, "at least one SLO is required");

  const out: Slo[] = [];
  slos.forEach((item, i) => {
    const at: Path = [...slosPath, i];
    const before = r.issues.length;
    const name = r.string(item, at, ["name"], true) ?? "";
    const objective = r.number(item, at, ["objective"]);
    if (objective === undefined) r.issue([...at, "objective"], "is required (a percent such as 99.9)");
    const { value: sli, path: sliPath } = r.object(item, at, ["sli"]);
    const events = r.object(sli, sliPath, ["events"]);
    const raw = r.object(sli, sliPath, ["raw"]);
    const plugin = r.object(sli, sliPath, ["plugin"]);
    const kinds = [events.value, raw.value, plugin.value].filter(Boolean).length;
    if (plugin.value) {
      r.issue(plugin.path, "SLI plugins are not supported; write the query as an events or raw SLI");
    }
    if (kinds !== 1 && !plugin.value) {
      r.issue(
        sliPath,
        kinds === 0 ? "needs one SLI type: events or raw" : "only one SLI type is allowed (events or raw)",
      );
    }
    const fields: Record<string, Path> = {
      name: [...at, "name"],
      id: [...at, "name"],
      service: [...base, "service"],
      objective: [...at, "objective"],
      period: at,
      labels: [...at, "labels"],
      sli: sliPath,
    };
    let sliModel: Slo["sli"] | undefined;
    if (events.value) {
      const e = r.pick(events.value, events.path, ["error_query", "errorQuery"]);
      const t = r.pick(events.value, events.path, ["total_query", "totalQuery"]);
      fields["sli.events.errorQuery"] = e.path;
      fields["sli.events.totalQuery"] = t.path;
      sliModel = {
        events: {
          errorQuery: r.string(events.value, events.path, ["error_query", "errorQuery"], true) ?? "",
          totalQuery: r.string(events.value, events.path, ["total_query", "totalQuery"], true) ?? "",
        },
      };
    } else if (raw.value) {
      const q = r.pick(raw.value, raw.path, ["error_ratio_query", "errorRatioQuery"]);
      fields["sli.raw.errorRatioQuery"] = q.path;
      sliModel = {
        raw: {
          errorRatioQuery:
            r.string(raw.value, raw.path, ["error_ratio_query", "errorRatioQuery"], true) ?? "",
        },
      };
    }
    const { value: alerting, path: alertingPath } = r.object(item, at, ["alerting"]);
    const page = alertSpec(r, alerting, alertingPath, ["page_alert", "pageAlert"]);
    const ticket = alertSpec(r, alerting, alertingPath, ["ticket_alert", "ticketAlert"]);
    fields.alerting = alertingPath;
    fields["alerting.name"] = [...alertingPath, "name"];
    fields["alerting.page"] = page.path;
    fields["alerting.ticket"] = ticket.path;
    const minEvents = r.number(alerting, alertingPath, ["min_events", "minEvents"]);
    fields["alerting.minEvents"] = r.pick(alerting, alertingPath, ["min_events", "minEvents"]).path;

    if (!sliModel || objective === undefined || r.issues.length > before) return;
    const description = r.string(item, at, ["description"]);
    const candidate: Slo = {
      id: `${service}-${name}`,
      service,
      name,
      ...(description !== undefined ? { description } : {}),
      origin: { spec: isK8s ? SLOTH_K8S_V1 : SLOTH_V1, file: sd.file, line: lineAt(sd, at) },
      objective,
      period: opts.defaultPeriod,
      sli: sliModel,
      labels: { ...globalLabels, ...r.stringMap(item, at, ["labels"]) },
      alerting: {
        labels: r.stringMap(alerting, alertingPath, ["labels"]),
        annotations: r.stringMap(alerting, alertingPath, ["annotations"]),
        page: page.spec,
        ticket: ticket.spec,
        ...(minEvents !== undefined ? { minEvents } : {}),
      },
    };
    const { value: interval, path: intervalPath } = r.object(item, at, ["interval"]);
    if (interval) {
      const ri: Record<string, string> = {};
      const fields: [keyof NonNullable<Slo["ruleIntervals"]>, string[]][] = [
        ["sli", ["slierror", "sliError", "sli_error", "all"]],
        ["meta", ["metadata", "all"]],
        ["alerts", ["alert", "all"]],
      ];
      for (const [key, names] of fields) {
        const { value, path } = r.pick(interval, intervalPath, names);
        if (value === undefined) continue;
        if (typeof value !== "string" || parseDuration(value) === undefined) {
          r.issue(path, `must be a duration such as 2m, got ${JSON.stringify(value)}`);
        } else ri[key] = value;
      }
      candidate.ruleIntervals = ri;
    }
    const alertName = r.string(alerting, alertingPath, ["name"]);
    if (alertName !== undefined) candidate.alerting.name = alertName;
    const slo = finishSlo(r, candidate, (field) => locate(fields, field, at));
    if (slo) out.push(slo);
  });
  return { slos: out, issues: r.issues };
}

/** Maps a model field to the spec path it came from: the longest known prefix wins. */
function locate(fields: Record<string, Path>, field: string, fallback: Path): Path {
  const parts = field.split(".");
  for (let n = parts.length; n > 0; n--) {
    const key = parts.slice(0, n).join(".");
    const p = fields[key];
    if (p) {
      const rest = parts.slice(n);
      if (
        key.startsWith("alerting.page") ||
        key.startsWith("alerting.ticket") ||
        key === "labels" ||
        key === "alerting"
      ) {
        return [...p, ...rest];
      }
      return p;
    }
  }
  return fallback;
}

/** Sloth `prometheus/v1` documents (one per service) for the SLOs, so teams can move to Sloth and back. */
export function toSlothSpecs(slos: Slo[]): string {
  const byService = new Map<string, Slo[]>();
  for (const s of slos) byService.set(s.service, [...(byService.get(s.service) ?? []), s]);
  const docs: string[] = [];
  for (const [service, list] of byService) {
    const periods = [...new Set(list.map((s) => s.period))];
    const header =
      periods.length === 1 && periods[0] !== "30d"
        ? ` Generate with: --default-slo-period ${periods[0]} (a Sloth spec carries no period)`
        : periods.length > 1
          ? ` These SLOs use different periods (${periods.join(", ")}); a Sloth spec carries none, split by --default-slo-period`
          : undefined;
    docs.push(
      toYaml(
        {
          version: SLOTH_V1,
          service,
          slos: list.map((s) => {
            const alerting: Record<string, unknown> = {};
            if (s.alerting.name) alerting.name = s.alerting.name;
            if (Object.keys(s.alerting.labels).length) alerting.labels = s.alerting.labels;
            if (Object.keys(s.alerting.annotations).length) alerting.annotations = s.alerting.annotations;
            if (s.alerting.minEvents !== undefined) alerting.min_events = s.alerting.minEvents;
            alerting.page_alert = alertOut(s.alerting.page);
            alerting.ticket_alert = alertOut(s.alerting.ticket);
            const sli =
              "events" in s.sli
                ? { events: { error_query: s.sli.events.errorQuery, total_query: s.sli.events.totalQuery } }
                : { raw: { error_ratio_query: s.sli.raw.errorRatioQuery } };
            return {
              name: s.name,
              objective: s.objective,
              ...(s.description ? { description: s.description } : {}),
              ...(Object.keys(s.labels).length ? { labels: s.labels } : {}),
              ...(s.ruleIntervals
                ? {
                    interval: {
                      ...(s.ruleIntervals.sli ? { slierror: s.ruleIntervals.sli } : {}),
                      ...(s.ruleIntervals.meta ? { metadata: s.ruleIntervals.meta } : {}),
                      ...(s.ruleIntervals.alerts ? { alert: s.ruleIntervals.alerts } : {}),
                    },
                  }
                : {}),
              sli,
              alerting,
            };
          }),
        },
        header,
      ),
    );
  }
  return docs.map((d) => `---\n${d}`).join("");
}

function alertOut(a: AlertSpec): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (a.disable) out.disable = true;
  if (Object.keys(a.labels).length) out.labels = a.labels;
  if (Object.keys(a.annotations).length) out.annotations = a.annotations;
  if (a.for) out.for = a.for;
  return out;
}
