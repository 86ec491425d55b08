import { counter, histogram } from "../observability/metrics.js";

/** The server's own request metrics, in the process registry that `/metrics` exposes. */

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
