import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/**
 * The one Prometheus registry `/metrics` exposes: process metrics plus whatever the app's modules add.
 * Modules create their metrics through these helpers (get-or-create, so a module loaded twice, or a
 * server built twice in tests, gets the same metric instead of a duplicate-registration error).
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

export const httpRequests = counter("slo_scout_http_requests_total", "HTTP requests answered", [
  "method",
  "route",
  "status_code",
]);

export const httpDuration = histogram(
  "slo_scout_http_request_duration_seconds",
  "Time to answer an HTTP request",
  ["method", "route", "status_code"],
  [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
);
