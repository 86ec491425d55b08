import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/**
 * The process's one Prometheus registry (the server exposes it on `/metrics`): process metrics plus
 * whatever the modules add. It lives below every layer so the pipeline and the store can count without
 * depending on the server. Modules create their metrics through these helpers (get-or-create, so a
 * module loaded twice, or a server built twice in tests, gets the same metric instead of a
 * duplicate-registration error).
 */
export const registry = new Registry();
collectDefaultMetrics({ register: registry });

function existing<M>(name: string, kind: new (...args: never[]) => M): M | undefined {
  const metric = registry.getSingleMetric(name);
  if (!metric) return undefined;
  if (!(metric instanceof kind)) throw new Error(`metric ${name} is already registered as another type`);
  return metric;
}

export function counter<L extends string = string>(
  name: string,
  help: string,
  labelNames: L[] = [],
): Counter<L> {
  return existing(name, Counter<L>) ?? new Counter<L>({ name, help, labelNames, registers: [registry] });
}

export function gauge<L extends string = string>(name: string, help: string, labelNames: L[] = []): Gauge<L> {
  return existing(name, Gauge<L>) ?? new Gauge<L>({ name, help, labelNames, registers: [registry] });
}

export function histogram<L extends string = string>(
  name: string,
  help: string,
  labelNames: L[] = [],
  buckets?: number[],
): Histogram<L> {
  return (
    existing(name, Histogram<L>) ??
    new Histogram<L>({ name, help, labelNames, registers: [registry], ...(buckets ? { buckets } : {}) })
  );
}
