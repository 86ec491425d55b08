import { mwmbWindows, type WindowsCatalog } from "../../core/alert-windows.js";
import { formatDuration, parseDuration } from "../../core/duration.js";
import type { AlertSpec, Slo } from "../../core/slo.js";
import { goFloat } from "../prom-format.js";
import { toYaml } from "../rules-yaml.js";
import { finishSlo, lineAt, type Path, Reader, type SpecDoc, type SpecIssue } from "./source.js";

/**
 * OpenSLO input and output.
 * - `openslo/v1alpha` `kind: SLO` exactly as Sloth reads it: ratioMetrics good/total become a raw SLI
 *   `1 - good/total`, one SLO per objective (`<name>-<i>`), alerts off.
 * - `openslo/v1` (which Sloth does not read): SLO with an inline `indicator` or an `indicatorRef` to a
 *   `kind: SLI` document in the same input; `ratioMetric` good/total (raw `1 - good/total`), bad/total (an
 *   events SLI) or raw with `rawType`; `thresholdMetric` (the share of time the metric breaks the objective's
 *   `op value`); a rolling `timeWindow`; `alertPolicies` (inline, by name, or `alertPolicyRef`) whose
 *   conditions turn on the page and ticket alerts by severity.
 */

export const OPENSLO_V1ALPHA = "openslo/v1alpha";
export const OPENSLO_V1 = "openslo/v1";

const MIN_EVENTS_ANNOTATION = "slo-scout.dev/min-events";

export function isOpenSloDoc(data: unknown): boolean {
  const d = data as Record<string, unknown> | null;
  return !!d && (d.apiVersion === OPENSLO_V1ALPHA || d.apiVersion === OPENSLO_V1);
}

/** Sloth's mapping of good/total to an error ratio (kept byte for byte so rules stay equivalent). */
export function goodOverTotalErrorRatio(good: string, total: string): string {
  return `\n  1 - (\n    (\n      ${good}\n    )\n    /\n    (\n      ${total}\n    )\n  )\n`;
}

const PROMETHEUS_SOURCES = new Set(["prometheus", "sloth"]);

function v1alphaSlos(sd: SpecDoc, defaultPeriod: string): { slos: Slo[]; issues: SpecIssue[] } {
  const r = new Reader(sd);
  const root = sd.data as Record<string, unknown>;
  if (root.kind !== "SLO") {
    r.issue(["kind"], `only kind: SLO is read from ${OPENSLO_V1ALPHA}, got ${JSON.stringify(root.kind)}`);
    return { slos: [], issues: r.issues };
  }
  const { value: meta, path: metaPath } = r.object(root, [], ["metadata"]);
  const name = r.string(meta, metaPath, ["name"], true) ?? "";
  const { value: spec, path: specPath } = r.object(root, [], ["spec"]);
  const service = r.string(spec, specPath, ["service"], true) ?? "";
  const description = r.string(spec, specPath, ["description"]);
  const { value: windows, path: twPath } = r.list(spec, specPath, ["timeWindows"]);
  let period = defaultPeriod;
  if (windows.length > 1) r.issue(twPath, "only one time window is supported");
  else if (windows.length === 1) {
    const w = windows[0];
    const unit = r.string(w, [...twPath, 0], ["unit"]) ?? "";
    const count = r.number(w, [...twPath, 0], ["count"]);
    if (unit.toLowerCase() !== "day") r.issue([...twPath, 0, "unit"], "only Day time windows are supported");
    else if (count === undefined || !Number.isInteger(count) || count <= 0) {
      r.issue([...twPath, 0, "count"], "must be a whole number of days");
    } else period = `${count}d`;
  }
  const { value: objectives, path: objPath } = r.list(spec, specPath, ["objectives"]);
  if (objectives.length === 0) r.issue(objPath, "at least one objective is required");
  const out: Slo[] = [];
  objectives.forEach((obj, i) => {
    const at: Path = [...objPath, i];
    const before = r.issues.length;
    const { value: ratio, path: ratioPath } = r.object(obj, at, ["ratioMetrics"]);
    if (!ratio) {
      r.issue(ratioPath, "is required: only ratioMetrics objectives are supported");
      return;
    }
    const query = (which: "good" | "total") => {
      const { value: m, path: p } = r.object(ratio, ratioPath, [which]);
      if (!m) {
        r.issue(p, "is required");
        return "";
      }
      const source = r.string(m, p, ["source"]) ?? "";
      if (!PROMETHEUS_SOURCES.has(source)) r.issue([...p, "source"], "must be prometheus or sloth");
      const type = r.string(m, p, ["queryType"]) ?? "";
      if (type !== "promql")
        r.issue([...p, "queryType"], `unsupported query type ${JSON.stringify(type)}; use promql`);
      return r.string(m, p, ["query"], true) ?? "";
    };
    const good = query("good");
    const total = query("total");
    const target = r.number(obj, at, ["target"]);
    if (target === undefined) r.issue([...at, "target"], "is required (a ratio such as 0.999)");
    if (r.issues.length > before || target === undefined) return;
    const sloName = `${name}-${i}`;
    const candidate: Slo = {
      id: `${service}-${sloName}`,
      service,
      name: sloName,
      ...(description !== undefined ? { description } : {}),
      origin: { spec: OPENSLO_V1ALPHA, file: sd.file, line: lineAt(sd, at) },
      objective: target * 100,
      period,
      sli: { raw: { errorRatioQuery: goodOverTotalErrorRatio(good, total) } },
      labels: {},
      alerting: {
        labels: {},
        annotations: {},
        page: { disable: true, labels: {}, annotations: {} },
        ticket: { disable: true, labels: {}, annotations: {} },
      },
    };
    const fields: Record<string, Path> = {
      service: [...specPath, "service"],
      name: [...metaPath, "name"],
      id: [...metaPath, "name"],
      objective: [...at, "target"],
      period: twPath,
      "sli.raw.errorRatioQuery": ratioPath,
    };
    const slo = finishSlo(r, candidate, (f) => fields[f] ?? at);
    if (slo) out.push(slo);
  });
  return { slos: out, issues: r.issues };
}

/** OpenSLO v1 durations are one number and one unit: m, h, d, w (rolling), M, Q, Y (calendar only). */
function openSloDuration(text: string): number | undefined {
  const m = /^(\d+)([mhdw])$/.exec(text.trim());
  return m ? parseDuration(`${m[1]}${m[2]}`) : undefined;
}

const PAGE_SEVERITY = /^(page|paging|critical|crit|high|p1|sev1|sev-1|urgent|emergency)$/i;

function pascal(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join("");
}

function kebab(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1-$2")
    .replace(/[^A-Za-z0-9]+/g, "-")
    .toLowerCase()
    .replace(/^-|-$/g, "");
}

interface V1Index {
  slis: Map<string, { sd: SpecDoc; data: Record<string, unknown> }>;
  policies: Map<string, { sd: SpecDoc; data: Record<string, unknown> }>;
  conditions: Map<string, { sd: SpecDoc; data: Record<string, unknown> }>;
}

function indexV1(docs: SpecDoc[]): V1Index {
  const idx: V1Index = { slis: new Map(), policies: new Map(), conditions: new Map() };
  for (const sd of docs) {
    const d = sd.data as Record<string, unknown>;
    const name = (d.metadata as Record<string, unknown> | undefined)?.name;
    if (typeof name !== "string") continue;
    if (d.kind === "SLI") idx.slis.set(name, { sd, data: d });
    if (d.kind === "AlertPolicy") idx.policies.set(name, { sd, data: d });
    if (d.kind === "AlertCondition") idx.conditions.set(name, { sd, data: d });
  }
  return idx;
}

function metricQuery(r: Reader, holder: unknown, path: Path): string | undefined {
  const { value: src, path: p } = r.object(holder, path, ["metricSource"]);
  if (!src) {
    r.issue(p, "is required");
    return undefined;
  }
  const type = r.string(src, p, ["type"]) ?? "";
  if (!PROMETHEUS_SOURCES.has(type.toLowerCase())) {
    r.issue([...p, "type"], `only Prometheus metric sources are supported, got ${JSON.stringify(type)}`);
    return undefined;
  }
  const { value: spec, path: sp } = r.object(src, p, ["spec"]);
  return r.string(spec, sp, ["query", "promql"], true);
}

const THRESHOLD_OPS: Record<string, string> = { lt: "<", lte: "<=", gt: ">", gte: ">=" };

interface V1Sli {
  build(objective: Record<string, unknown>, objPath: Path): Slo["sli"] | undefined;
  path: Path;
}

/** Reads an SLI spec (inline indicator or a `kind: SLI` document) into a builder per objective. */
function v1Sli(r: Reader, sliSpec: unknown, path: Path): V1Sli | undefined {
  const ratio = r.object(sliSpec, path, ["ratioMetric"]);
  const threshold = r.object(sliSpec, path, ["thresholdMetric"]);
  if (ratio.value && threshold.value) {
    r.issue(path, "holds both ratioMetric and thresholdMetric; use one");
    return undefined;
  }
  if (ratio.value) {
    const rm = ratio.value;
    const q = (key: string) => (key in rm ? metricQuery(r, rm[key], [...ratio.path, key]) : undefined);
    const total = q("total");
    const good = q("good");
    const bad = q("bad");
    const raw = q("raw");
    let sli: Slo["sli"] | undefined;
    if (raw !== undefined) {
      const rawType = r.string(rm, ratio.path, ["rawType"]) ?? "";
      if (rawType === "failure") sli = { raw: { errorRatioQuery: raw } };
      else if (rawType === "success") sli = { raw: { errorRatioQuery: `1 - (${raw})` } };
      else r.issue([...ratio.path, "rawType"], "must be success or failure for a raw ratio");
    } else if (total === undefined) {
      r.issue([...ratio.path, "total"], "is required");
    } else if (bad !== undefined) {
      sli = { events: { errorQuery: bad, totalQuery: total } };
    } else if (good !== undefined) {
      sli = { raw: { errorRatioQuery: goodOverTotalErrorRatio(good, total) } };
    } else {
      r.issue(ratio.path, "needs good or bad over total");
    }
    return sli ? { build: () => sli, path: ratio.path } : undefined;
  }
  if (threshold.value) {
    const query = metricQuery(r, threshold.value, threshold.path);
    if (query === undefined) return undefined;
    return {
      path: threshold.path,
      build: (objective, objPath) => {
        const op = r.string(objective, objPath, ["op"]);
        const value = r.number(objective, objPath, ["value"]);
        if (!op || !THRESHOLD_OPS[op]) {
          r.issue([...objPath, "op"], "a threshold objective needs op: lt, lte, gt or gte");
          return undefined;
        }
        if (value === undefined) {
          r.issue([...objPath, "value"], "a threshold objective needs a value");
          return undefined;
        }
        // The share of evaluations in the window where the metric breaks `op value`.
        return {
          raw: {
            errorRatioQuery: `1 - avg_over_time(((${query}) ${THRESHOLD_OPS[op]} bool ${goFloat(value)})[{{.window}}:])`,
          },
        };
      },
    };
  }
  r.issue(path, "needs a ratioMetric or a thresholdMetric");
  return undefined;
}

interface AlertMapping {
  name?: string;
  page: AlertSpec;
  ticket: AlertSpec;
}

function v1Alerts(r: Reader, idx: V1Index, spec: unknown, specPath: Path): AlertMapping {
  const off = (): AlertSpec => ({ disable: true, labels: {}, annotations: {} });
  const out: AlertMapping = { page: off(), ticket: off() };
  const { value: list, path: lp } = r.list(spec, specPath, ["alertPolicies"]);
  list.forEach((item, i) => {
    const at: Path = [...lp, i];
    let policy: Record<string, unknown> | undefined;
    let ref: string | undefined;
    if (typeof item === "string") ref = item;
    else if (item && typeof item === "object" && "alertPolicyRef" in item)
      ref = String((item as Record<string, unknown>).alertPolicyRef);
    else if (item && typeof item === "object") policy = item as Record<string, unknown>;
    if (ref !== undefined) {
      policy = idx.policies.get(ref)?.data;
      if (!policy) {
        r.issue(
          at,
          `alert policy ${JSON.stringify(ref)} is not defined in the input (add its kind: AlertPolicy document)`,
        );
        return;
      }
    }
    const meta = (policy?.metadata ?? {}) as Record<string, unknown>;
    const pspec = (policy?.spec ?? {}) as Record<string, unknown>;
    const policyName =
      typeof meta.displayName === "string"
        ? meta.displayName
        : typeof meta.name === "string"
          ? pascal(meta.name)
          : undefined;
    const labels = stringRecord(meta.labels);
    const annotations = stringRecord(meta.annotations);
    const conditions = Array.isArray(pspec.conditions) ? pspec.conditions : [];
    if (conditions.length === 0) r.issue(at, "an alert policy needs at least one condition");
    for (const c of conditions) {
      let cond = c as Record<string, unknown>;
      if (cond && typeof cond.conditionRef === "string") {
        const found = idx.conditions.get(cond.conditionRef);
        if (!found) {
          r.issue(at, `alert condition ${JSON.stringify(cond.conditionRef)} is not defined in the input`);
          continue;
        }
        cond = found.data;
      }
      const cspec = (cond?.spec ?? {}) as Record<string, unknown>;
      const condition = (cspec.condition ?? {}) as Record<string, unknown>;
      if (condition.kind !== undefined && condition.kind !== "burnrate") {
        r.issue(at, `only burnrate alert conditions are supported, got ${JSON.stringify(condition.kind)}`);
        continue;
      }
      const severity = typeof cspec.severity === "string" ? cspec.severity : "ticket";
      const target = PAGE_SEVERITY.test(severity) ? out.page : out.ticket;
      target.disable = false;
      Object.assign(target.labels, labels);
      Object.assign(target.annotations, annotations);
      if (typeof condition.alertAfter === "string" && condition.alertAfter !== "0m")
        target.for = condition.alertAfter;
      out.name ??= policyName;
    }
  });
  return out;
}

function stringRecord(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (v && typeof v === "object" && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v)) {
      if (typeof x === "string") out[k] = x;
      else if (Array.isArray(x)) out[k] = x.join(",");
      else if (typeof x === "number" || typeof x === "boolean") out[k] = String(x);
    }
  }
  return out;
}

function v1Slos(sd: SpecDoc, idx: V1Index, defaultPeriod: string): { slos: Slo[]; issues: SpecIssue[] } {
  const r = new Reader(sd);
  const root = sd.data as Record<string, unknown>;
  const { value: meta, path: metaPath } = r.object(root, [], ["metadata"]);
  const name = r.string(meta, metaPath, ["name"], true) ?? "";
  const displayName = r.string(meta, metaPath, ["displayName"]);
  const labels = stringRecord(meta?.labels);
  const annotations = stringRecord(meta?.annotations);
  const { value: spec, path: specPath } = r.object(root, [], ["spec"]);
  const service = r.string(spec, specPath, ["service"], true) ?? "";
  const description = r.string(spec, specPath, ["description"]);

  let sli: V1Sli | undefined;
  const inline = r.object(spec, specPath, ["indicator"]);
  const ref = r.string(spec, specPath, ["indicatorRef"]);
  if (inline.value)
    sli = v1Sli(r, r.object(inline.value, inline.path, ["spec"]).value, [...inline.path, "spec"]);
  else if (ref !== undefined) {
    const found = idx.slis.get(ref);
    if (!found)
      r.issue(
        [...specPath, "indicatorRef"],
        `SLI ${JSON.stringify(ref)} is not defined in the input (add its kind: SLI document)`,
      );
    else {
      const sr = new Reader(found.sd);
      sli = v1Sli(sr, (found.data.spec ?? {}) as Record<string, unknown>, ["spec"]);
      r.issues.push(...sr.issues);
    }
  } else r.issue([...specPath, "indicator"], "is required (or indicatorRef)");

  let period = defaultPeriod;
  const { value: tw, path: twPath } = r.list(spec, specPath, ["timeWindow"]);
  if (tw.length > 1) r.issue(twPath, "only one time window is supported");
  else if (tw.length === 1) {
    const w = tw[0] as Record<string, unknown>;
    const duration = r.string(w, [...twPath, 0], ["duration"]) ?? "";
    const rolling = w?.isRolling !== false;
    const ms = openSloDuration(duration);
    if (!rolling || w?.calendar !== undefined) {
      r.issue(
        [...twPath, 0],
        "calendar-aligned windows are not supported; use a rolling window (isRolling: true)",
      );
    } else if (ms === undefined)
      r.issue(
        [...twPath, 0, "duration"],
        `must be a rolling duration such as 28d or 4w, got ${JSON.stringify(duration)}`,
      );
    else period = formatDurationDays(ms);
  }

  const alerts = v1Alerts(r, idx, spec, specPath);
  const minEvents =
    annotations[MIN_EVENTS_ANNOTATION] !== undefined ? Number(annotations[MIN_EVENTS_ANNOTATION]) : undefined;
  const { value: objectives, path: objPath } = r.list(spec, specPath, ["objectives"]);
  if (objectives.length === 0) r.issue(objPath, "at least one objective is required");
  const out: Slo[] = [];
  objectives.forEach((o, i) => {
    const at: Path = [...objPath, i];
    const before = r.issues.length;
    const obj = (o ?? {}) as Record<string, unknown>;
    const pct = r.number(obj, at, ["targetPercent"]);
    const ratio = r.number(obj, at, ["target"]);
    const objective = pct ?? (ratio !== undefined ? ratio * 100 : undefined);
    if (objective === undefined)
      r.issue([...at, "target"], "is required (target as a ratio such as 0.999, or targetPercent)");
    const model = sli?.build(obj, at);
    if (!model || objective === undefined || r.issues.length > before) return;
    const sloName = objectives.length === 1 ? name : `${name}-${i}`;
    const candidate: Slo = {
      id: `${service}-${sloName}`,
      service,
      name: sloName,
      ...(displayName !== undefined ? { displayName } : {}),
      ...(description !== undefined ? { description } : {}),
      origin: { spec: OPENSLO_V1, file: sd.file, line: lineAt(sd, at) },
      objective,
      period,
      sli: model,
      labels,
      alerting: {
        ...(alerts.name !== undefined ? { name: alerts.name } : {}),
        labels: {},
        annotations: {},
        page: structuredClone(alerts.page),
        ticket: structuredClone(alerts.ticket),
        ...(minEvents !== undefined ? { minEvents } : {}),
      },
    };
    const fields: Record<string, Path> = {
      service: [...specPath, "service"],
      name: [...metaPath, "name"],
      id: [...metaPath, "name"],
      objective: [...at, pct !== undefined ? "targetPercent" : "target"],
      period: twPath,
      labels: [...metaPath, "labels"],
      alerting: [...specPath, "alertPolicies"],
      sli: sli?.path ?? specPath,
    };
    const slo = finishSlo(r, candidate, (f) => {
      const parts = f.split(".");
      for (let n = parts.length; n > 0; n--) {
        const p = fields[parts.slice(0, n).join(".")];
        if (p) return p;
      }
      return at;
    });
    if (slo) out.push(slo);
  });
  return { slos: out, issues: r.issues };
}

/** Periods in whole days read as days (`28d`, not `4w`), as people write them. */
function formatDurationDays(ms: number): string {
  const day = 86_400_000;
  return ms % day === 0 ? `${ms / day}d` : formatDuration(ms);
}

const V1_SUPPORT_KINDS = new Set([
  "SLI",
  "AlertPolicy",
  "AlertCondition",
  "AlertNotificationTarget",
  "Service",
  "DataSource",
]);

/** Loads every OpenSLO document of an input (v1 references resolve across all of them). */
export function loadOpenSloDocs(
  docs: SpecDoc[],
  opts: { defaultPeriod: string },
): { slos: Slo[]; issues: SpecIssue[] } {
  const idx = indexV1(docs.filter((d) => (d.data as Record<string, unknown>).apiVersion === OPENSLO_V1));
  const slos: Slo[] = [];
  const issues: SpecIssue[] = [];
  for (const sd of docs) {
    const d = sd.data as Record<string, unknown>;
    let res: { slos: Slo[]; issues: SpecIssue[] } | undefined;
    if (d.apiVersion === OPENSLO_V1ALPHA) res = v1alphaSlos(sd, opts.defaultPeriod);
    else if (d.kind === "SLO") res = v1Slos(sd, idx, opts.defaultPeriod);
    else if (!V1_SUPPORT_KINDS.has(String(d.kind))) {
      const r = new Reader(sd);
      r.issue(["kind"], `unknown OpenSLO kind ${JSON.stringify(d.kind)}`);
      res = { slos: [], issues: r.issues };
    }
    if (res) {
      slos.push(...res.slos);
      issues.push(...res.issues);
    }
  }
  return { slos, issues };
}

/**
 * OpenSLO v1 documents for the SLOs: an SLO with an inline SLI and one AlertPolicy per burn-rate window
 * pair (a burnrate condition with the pair's long window and factor), so the alerting survives the trip.
 */
export function toOpenSloV1(slos: Slo[], catalog?: WindowsCatalog): string {
  const docs = slos.map((s) => {
    const sliSpec =
      "events" in s.sli
        ? {
            ratioMetric: {
              counter: true,
              bad: { metricSource: { type: "Prometheus", spec: { query: s.sli.events.errorQuery } } },
              total: { metricSource: { type: "Prometheus", spec: { query: s.sli.events.totalQuery } } },
            },
          }
        : {
            ratioMetric: {
              counter: true,
              rawType: "failure",
              raw: { metricSource: { type: "Prometheus", spec: { query: s.sli.raw.errorRatioQuery } } },
            },
          };
    const alertName = s.alerting.name ?? pascal(s.name);
    const policies: unknown[] = [];
    const ms = parseDuration(s.period) ?? 30 * 86_400_000;
    const windows = catalog ? mwmbWindows(catalog.get(ms)) : undefined;
    for (const sev of ["page", "ticket"] as const) {
      const a = s.alerting[sev];
      if (a.disable) continue;
      const pairs = windows
        ? sev === "page"
          ? [windows.pageQuick, windows.pageSlow]
          : [windows.ticketQuick, windows.ticketSlow]
        : [];
      const conditions = (pairs.length ? pairs : [undefined]).map((p, i) => ({
        kind: "AlertCondition",
        metadata: { name: `${kebab(alertName)}-${sev}-${p ? p.speed : i}` },
        spec: {
          severity: sev,
          condition: {
            kind: "burnrate",
            op: "gt",
            ...(p ? { threshold: p.factor, lookbackWindow: formatDuration(p.longWindowMs) } : {}),
            ...(a.for ? { alertAfter: a.for } : {}),
          },
        },
      }));
      policies.push({
        kind: "AlertPolicy",
        metadata: {
          name: `${kebab(alertName)}-${sev}`,
          displayName: alertName,
          ...(Object.keys({ ...s.alerting.labels, ...a.labels }).length
            ? { labels: { ...s.alerting.labels, ...a.labels } }
            : {}),
          ...(Object.keys({ ...s.alerting.annotations, ...a.annotations }).length
            ? { annotations: { ...s.alerting.annotations, ...a.annotations } }
            : {}),
        },
        spec: { alertWhenBreaching: true, conditions },
      });
    }
    const annotations: Record<string, string> = {};
    if (s.alerting.minEvents !== undefined) annotations[MIN_EVENTS_ANNOTATION] = String(s.alerting.minEvents);
    return toYaml({
      apiVersion: OPENSLO_V1,
      kind: "SLO",
      metadata: {
        name: s.name,
        ...(s.displayName ? { displayName: s.displayName } : {}),
        ...(Object.keys(s.labels).length ? { labels: s.labels } : {}),
        ...(Object.keys(annotations).length ? { annotations } : {}),
      },
      spec: {
        ...(s.description ? { description: s.description } : {}),
        service: s.service,
        indicator: { metadata: { name: `${s.name}-sli` }, spec: sliSpec },
        timeWindow: [{ duration: s.period, isRolling: true }],
        budgetingMethod: "Occurrences",
        objectives: [{ targetPercent: s.objective }],
        ...(policies.length ? { alertPolicies: policies } : {}),
      },
    });
  });
  return docs.map((d) => `---\n${d}`).join("");
}
