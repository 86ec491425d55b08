import type { TelemetryEvent } from "../../src/core/telemetry.js";

export type MetricEvent = Extract<TelemetryEvent, { kind: "metric" }>;
export type SpanEvent = Extract<TelemetryEvent, { kind: "span" }>;

/** Concatenates each series' samples across chunks, keyed by name + sorted labels. */
export function collectSeries(events: Iterable<TelemetryEvent>) {
  const series = new Map<
    string,
    { name: string; labels: Record<string, string>; samples: { time: number; value: number }[] }
  >();
  for (const ev of events) {
    if (ev.kind !== "metric") continue;
    const key = `${ev.metric.name}${JSON.stringify(Object.entries(ev.metric.labels).sort())}`;
    let s = series.get(key);
    if (!s) {
      s = { name: ev.metric.name, labels: ev.metric.labels, samples: [] };
      series.set(key, s);
    }
    s.samples.push(...ev.metric.samples);
  }
  return [...series.values()];
}

/** Prometheus-style increase over all samples: a drop means the counter restarted from 0. */
export function increase(samples: { value: number }[]): number {
  let total = 0;
  for (let i = 1; i < samples.length; i++) {
    const d = samples[i]!.value - samples[i - 1]!.value;
    total += d >= 0 ? d : samples[i]!.value;
  }
  return total;
}

/** Increase between two times (exclusive start, inclusive end), reset-aware. */
export function increaseBetween(
  samples: { time: number; value: number }[],
  from: number,
  to: number,
): number {
  let total = 0;
  for (let i = 1; i < samples.length; i++) {
    const t = samples[i]!.time;
    if (t <= from || t > to) continue;
    const d = samples[i]!.value - samples[i - 1]!.value;
    total += d >= 0 ? d : samples[i]!.value;
  }
  return total;
}

export function journeyKey(labels: Record<string, string>): string {
  return `${labels.service} ${labels.method} ${labels.route}`;
}
