import { Counter, type Registry } from "prom-client";

/**
 * The ingest counters on the shared registry, so an operator (and a test) can compare what clients sent
 * with what arrived: records by receiver, signal and outcome, and requests by receiver and answer code.
 */
export interface IngestMetrics {
  records(receiver: string, signal: string, outcome: "accepted" | "rejected" | "future", n: number): void;
  request(receiver: string, code: number | string): void;
}

const RECORDS = "slo_scout_ingest_records_total";
const REQUESTS = "slo_scout_ingest_requests_total";

/** Registers the counters on `registry` (or reuses them when a second server shares the registry). */
export function ingestMetrics(registry: Registry): IngestMetrics {
  const records =
    (registry.getSingleMetric(RECORDS) as Counter<"receiver" | "signal" | "outcome"> | undefined) ??
    new Counter({
      name: RECORDS,
      help: "Telemetry records received, by receiver, signal and outcome (accepted: handed to the bus; rejected: invalid; future: dated more than FUTURE_TOLERANCE ahead of the server's clock, refused)",
      labelNames: ["receiver", "signal", "outcome"],
      registers: [registry],
    });
  const requests =
    (registry.getSingleMetric(REQUESTS) as Counter<"receiver" | "code"> | undefined) ??
    new Counter({
      name: REQUESTS,
      help: "Ingest requests answered, by receiver and response code (HTTP status or gRPC status name)",
      labelNames: ["receiver", "code"],
      registers: [registry],
    });
  return {
    records(receiver, signal, outcome, n) {
      if (n > 0) records.inc({ receiver, signal, outcome }, n);
    },
    request(receiver, code) {
      requests.inc({ receiver, code: String(code) });
    },
  };
}

/** For callers without a registry (the offline CLI): counts nothing. */
export const noMetrics: IngestMetrics = { records() {}, request() {} };
