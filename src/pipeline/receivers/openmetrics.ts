import type { MetricSeries, TelemetryEvent } from "../../core/telemetry.js";
import { type DecodeResult, RejectLog } from "./decode-result.js";

/**
 * Prometheus OpenMetrics text (`# TYPE`, samples `name{labels} value timestamp`, `# EOF`) as history to
 * import: every sample needs its timestamp (seconds, as OpenMetrics writes them), and samples of one series
 * become one metric event, in time order whatever order the file holds them in. The service is the
 * `service` label, else `job`, else `service` given by the caller.
 */

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+(\S+))?\s*$/;
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?/gy;
const SUFFIXES = ["_total", "_bucket", "_sum", "_count", "_created", "_gcount", "_gsum", "_info"];
const TYPES = new Set<MetricSeries["type"]>(["counter", "gauge", "histogram", "summary"]);

function unescapeLabel(v: string): string {
  return v.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
}

function parseLabels(text: string): Record<string, string> | undefined {
  const labels: Record<string, string> = {};
  LABEL.lastIndex = 0;
  let m: RegExpExecArray | null = LABEL.exec(text);
  while (m) {
    labels[m[1]!] = unescapeLabel(m[2]!);
    if (LABEL.lastIndex >= text.length) return labels;
    m = LABEL.exec(text);
  }
  return text.trim() === "" ? labels : undefined;
}

export function decodeOpenMetrics(text: string, service?: string): DecodeResult {
  const log = new RejectLog();
  const types = new Map<string, MetricSeries["type"]>();
  const series = new Map<string, MetricSeries & { service: string }>();
  let accepted = 0;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "# EOF") break;
    if (line === "") continue;
    if (line.startsWith("#")) {
      const type = /^# TYPE\s+(\S+)\s+(\S+)/.exec(line);
      if (type)
        types.set(
          type[1]!,
          TYPES.has(type[2] as MetricSeries["type"]) ? (type[2] as MetricSeries["type"]) : "unknown",
        );
      continue;
    }
    const m = SAMPLE.exec(line);
    const labels = m ? parseLabels(m[2] ?? "") : undefined;
    if (!m || !labels) {
      log.reject(`not an OpenMetrics sample line: ${line.slice(0, 80)}`);
      continue;
    }
    const [, name, , valueText, timestamp] = m;
    if (timestamp === undefined) {
      log.reject(`${name} has no timestamp (an import needs the time of every sample)`);
      continue;
    }
    const time = Math.round(Number(timestamp) * 1000);
    const value = Number(
      valueText === "+Inf"
        ? Number.POSITIVE_INFINITY
        : valueText === "-Inf"
          ? Number.NEGATIVE_INFINITY
          : valueText,
    );
    if (!Number.isFinite(time) || Number.isNaN(value)) {
      // NaN is Prometheus's stale marker: not a value.
      if (Number.isNaN(value) && Number.isFinite(time)) continue;
      log.reject(`${name} has a bad value or timestamp`);
      continue;
    }
    const owner = labels.service ?? labels.job ?? service;
    if (!owner) {
      log.reject(`${name} names no service (a service or job label, or --service)`);
      continue;
    }
    const family = SUFFIXES.find((s) => name!.endsWith(s) && types.has(name!.slice(0, -s.length)));
    const type =
      types.get(name!) ?? (family ? types.get(name!.slice(0, -family.length)) : undefined) ?? "unknown";
    const key = `${name}\u0000${JSON.stringify(Object.entries(labels).sort())}`;
    let s = series.get(key);
    if (!s) {
      s = { name: name!, type, labels, samples: [], service: owner };
      series.set(key, s);
    }
    s.samples.push({ time, value });
    accepted++;
  }
  const events: TelemetryEvent[] = [...series.values()].map(({ service: owner, ...metric }) => {
    metric.samples.sort((a, b) => a.time - b.time);
    return {
      schemaVersion: 1,
      kind: "metric",
      service: owner,
      time: metric.samples.at(-1)!.time,
      attributes: {},
      metric,
    };
  });
  return { events, accepted, rejected: log.rejected, reasons: log.reasons };
}
