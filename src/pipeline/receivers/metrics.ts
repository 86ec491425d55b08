import { Counter, Histogram, type Registry } from "prom-client";

/**
 * The ingest metrics on the shared registry, so an operator (and a test) can compare what clients sent
 * with what arrived: records by receiver, signal and outcome, requests by receiver and answer code, and
 * how long each acknowledgement took (SLO-Scout's own ingest SLOs, deploy/slo/slo-scout.yml, read them).
 */
export interface IngestMetrics {
  records(receiver: string, signal: string, outcome: "accepted" | "rejected" | "future", n: number): void;
  /** One answered request; `seconds` (arrival to answer) is observed when the answer acknowledges. */
  request(receiver: string, code: number | string, seconds?: number): void;
}

const RECORDS = "slo_scout_ingest_records_total";
const REQUESTS = "slo_scout_ingest_requests_total";
const ACK_SECONDS = "slo_scout_ingest_ack_duration_seconds";
const ACK_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** An acknowledgement: the records were taken (HTTP 2xx, gRPC OK); anything else was refused or failed. */
const acknowledges = (code: number | string) =>
  code === "OK" || (typeof code === "number" && code >= 200 && code < 300);

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
  const ackSeconds =
    (registry.getSingleMetric(ACK_SECONDS) as Histogram<"receiver"> | undefined) ??
    new Histogram({
      name: ACK_SECONDS,
      help: "Time from an ingest request's arrival to its acknowledgement (HTTP 2xx, gRPC OK), by receiver",
      labelNames: ["receiver"],
      buckets: ACK_BUCKETS,
      registers: [registry],
    });
  return {
    records(receiver, signal, outcome, n) {
      if (n > 0) records.inc({ receiver, signal, outcome }, n);
    },
    request(receiver, code, seconds) {
      requests.inc({ receiver, code: String(code) });
      if (seconds !== undefined && acknowledges(code)) ackSeconds.observe({ receiver }, seconds);
    },
  };
}

/** For callers without a registry (the offline CLI): counts nothing. */
export const noMetrics: IngestMetrics = { records() {}, request() {} };
