import type { Slo } from "../../core/slo.js";
import { isOpenSloDoc, loadOpenSloDocs } from "./openslo.js";
import { isSlothSpec, loadSlothSpec } from "./sloth.js";
import { lineAt, parseSpecDocuments, type SpecDoc, type SpecIssue } from "./source.js";

export { OPENSLO_V1, OPENSLO_V1ALPHA, toOpenSloV1 } from "./openslo.js";
export { SLOTH_K8S_V1, SLOTH_V1, toSlothSpecs } from "./sloth.js";
export { formatIssue, SpecError, type SpecIssue } from "./source.js";

export interface LoadSpecOptions {
  /** Period for SLOs whose spec carries none (Sloth's `--default-slo-period`, default 30d). */
  defaultPeriod?: string;
}

/** What kind of document this is, or undefined when it is not an SLO spec we read. */
export function specKind(data: unknown): "sloth" | "openslo" | undefined {
  if (isSlothSpec(data)) return "sloth";
  if (isOpenSloDoc(data)) return "openslo";
  return undefined;
}

/**
 * Reads every SLO in a YAML stream (Sloth prometheus/v1, Sloth's Kubernetes CRD, OpenSLO v1alpha and v1,
 * mixed and multi-document). Never throws on bad input: problems come back as issues with file and line.
 */
export function loadSpecs(
  text: string,
  file: string,
  opts: LoadSpecOptions = {},
): { slos: Slo[]; issues: SpecIssue[] } {
  const defaultPeriod = opts.defaultPeriod ?? "30d";
  const { docs, issues } = parseSpecDocuments(text, file);
  const slos: Slo[] = [];
  const openslo: SpecDoc[] = [];
  for (const sd of docs) {
    const kind = specKind(sd.data);
    if (kind === "sloth") {
      const res = loadSlothSpec(sd, { defaultPeriod });
      slos.push(...res.slos);
      issues.push(...res.issues);
    } else if (kind === "openslo") openslo.push(sd);
    else {
      issues.push({
        file,
        line: lineAt(sd, []),
        message: `document ${sd.index + 1} is not an SLO spec (expected version: prometheus/v1, apiVersion: sloth.slok.dev/v1 kind: PrometheusServiceLevel, or apiVersion: openslo/v1alpha | openslo/v1)`,
      });
    }
  }
  if (openslo.length > 0) {
    const res = loadOpenSloDocs(openslo, { defaultPeriod });
    slos.push(...res.slos);
    issues.push(...res.issues);
  }
  if (docs.length === 0 && issues.length === 0)
    issues.push({ file, message: "no SLO spec found (the file is empty)" });
  return { slos, issues };
}
