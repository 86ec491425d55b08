import type { InstrumentationRecommendation } from "../core/evidence.js";
import { snapUpToBucket } from "./targets.js";

/**
 * What to add to a journey's telemetry so SLO-Scout can measure it, instead of inventing an SLI from data
 * that is not there. Pure: the caller says what the journey has; the answer is exact instructions.
 */

export interface JourneyTelemetry {
  service: string;
  journey?: string;
  /** Entry spans (root SERVER/CONSUMER) were seen. */
  hasTraces: boolean;
  /** Entry spans carry `http.route` (meaningful for HTTP journeys with traces). */
  hasRoute?: boolean;
  /** Request metrics from the app (counters or histograms), not derived from spans. */
  hasMetrics: boolean;
  /** A latency histogram exists (the app's own, or span metrics). */
  hasHistogram: boolean;
  hasLogs: boolean;
  /** A browser/RUM upstream was seen. */
  hasRum?: boolean;
  userFacing?: boolean;
  protocol?: "http" | "rpc" | "messaging";
  /** `telemetry.sdk.language` of the service, when known. */
  language?: string;
  /** Bucket bounds of the existing histogram, ms. */
  histogramBoundsMs?: number[];
  /** Observed p95 of the entry operation (e.g. from traces), ms. */
  p95Ms?: number;
  /** Where the service should send OTLP; default `http://slo-scout:3000`. */
  otlpEndpoint?: string;
}

/** OpenTelemetry's advisory buckets for `http.server.request.duration`, in ms. */
export const SEMCONV_HTTP_BUCKETS_MS = [5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000];

/** A "nice" value (1, 2, 2.5, 5 × 10^k) at or above x. */
function niceCeil(x: number): number {
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= x - 1e-9) return m * p;
  return 10 * p;
}

/** Semconv buckets, plus bounds right above the observed p95 and twice it so a threshold can sit close to it. */
export function suggestBucketsMs(p95Ms?: number): number[] {
  const set = new Set(SEMCONV_HTTP_BUCKETS_MS);
  if (p95Ms !== undefined && p95Ms > 0) {
    set.add(niceCeil(p95Ms));
    set.add(niceCeil(2 * p95Ms));
  }
  return [...set].sort((a, b) => a - b);
}

const seconds = (ms: number[]) => ms.map((m) => Number((m / 1000).toPrecision(6))).join(", ");

function sdkSnippet(t: JourneyTelemetry): string {
  const endpoint = t.otlpEndpoint ?? "http://slo-scout:3000";
  const env = [
    `OTEL_SERVICE_NAME=${t.service}`,
    `OTEL_EXPORTER_OTLP_ENDPOINT=${endpoint}`,
    "OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf",
    "OTEL_TRACES_EXPORTER=otlp",
    "OTEL_METRICS_EXPORTER=otlp",
    "OTEL_LOGS_EXPORTER=otlp",
  ].join("\n");
  switch (t.language) {
    case "nodejs":
    case "node":
    case "javascript":
    case "typescript":
      return `npm install @opentelemetry/api @opentelemetry/auto-instrumentations-node\n${env}\nNODE_OPTIONS="--require @opentelemetry/auto-instrumentations-node/register"`;
    case "java":
      return `${env}\njava -javaagent:opentelemetry-javaagent.jar -jar app.jar`;
    case "python":
      return `pip install opentelemetry-distro opentelemetry-exporter-otlp && opentelemetry-bootstrap -a install\n${env}\nopentelemetry-instrument python app.py`;
    case "dotnet":
      return `${env}\n# install the OpenTelemetry .NET automatic instrumentation and run with its instrument.sh`;
    default:
      return `${env}\n# then start the service with your language's OpenTelemetry auto-instrumentation (agent or SDK)`;
  }
}

function histogramSnippet(t: JourneyTelemetry, bucketsMs: number[]): string {
  const secs = seconds(bucketsMs);
  if (t.language === "java") {
    return `OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION=explicit_bucket_histogram\n# custom boundaries need an SDK View on http.server.request.duration: [${secs}]`;
  }
  if (t.language && ["node", "nodejs", "javascript", "typescript"].includes(t.language)) {
    return [
      "// OpenTelemetry JS SDK (sdk-metrics 2.x): a view on the HTTP server duration histogram",
      "import { AggregationType } from '@opentelemetry/sdk-metrics';",
      "const views = [{",
      "  instrumentName: 'http.server.request.duration',",
      `  aggregation: { type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM, options: { boundaries: [${secs}] } },`,
      "}];",
      "// or with prom-client:",
      "// new client.Histogram({ name: 'http_server_request_duration_seconds', help: 'HTTP server request duration',",
      `//   labelNames: ['http_request_method', 'http_route', 'http_response_status_code'], buckets: [${secs}] });`,
    ].join("\n");
  }
  return [
    "# OpenTelemetry SDK view for http.server.request.duration (unit s), explicit bucket histogram:",
    `# boundaries: [${secs}]`,
    "# or, from traces, the collector's spanmetrics connector:",
    "connectors:",
    "  spanmetrics:",
    "    histogram:",
    "      explicit:",
    `        buckets: [${bucketsMs.map((b) => `${b}ms`).join(", ")}]`,
    "    dimensions: [{ name: http.request.method }, { name: http.route }, { name: http.response.status_code }]",
  ].join("\n");
}

export function recommendInstrumentation(t: JourneyTelemetry): InstrumentationRecommendation[] {
  const out: InstrumentationRecommendation[] = [];
  const base = { service: t.service, ...(t.journey ? { journey: t.journey } : {}) };
  const who = t.journey ? `journey ${t.journey}` : `service ${t.service}`;
  const buckets = suggestBucketsMs(t.p95Ms);

  if (!t.hasTraces && !t.hasMetrics) {
    out.push({
      ...base,
      kind: t.hasLogs ? "logs-only" : "missing-traces",
      message: t.hasLogs
        ? `${who} only sends logs, so the only SLI is a log-based error ratio from severities (no request counts, no ` +
          `latency, no call graph). Add OpenTelemetry auto-instrumentation to export traces and metrics over OTLP.`
        : `${who} sends no telemetry SLO-Scout can use. Add OpenTelemetry auto-instrumentation to export traces and metrics over OTLP.`,
      snippet: sdkSnippet(t),
    });
    return out;
  }
  if (!t.hasTraces) {
    out.push({
      ...base,
      kind: "missing-traces",
      message:
        `${who} has metrics but no traces: its SLIs can be measured, but journeys and their downstream calls cannot be ` +
        `discovered. Enable tracing (OTEL_TRACES_EXPORTER=otlp) so entry spans and the call graph are seen.`,
      snippet: sdkSnippet(t),
    });
  }
  if (t.hasTraces && !t.hasMetrics) {
    out.push({
      ...base,
      kind: "missing-metrics",
      message:
        `${who} has traces but no request metrics: SLIs fall back to span metrics, which undercount when traces are ` +
        `sampled. Export the HTTP server metrics over OTLP (OTEL_METRICS_EXPORTER=otlp) so every request is counted, ` +
        `or derive them from all spans with the collector's spanmetrics connector before sampling.`,
      snippet: histogramSnippet(t, buckets),
    });
  }
  if (t.hasTraces && t.hasRoute === false && (t.protocol ?? "http") === "http") {
    out.push({
      ...base,
      kind: "missing-route",
      message:
        `entry spans of ${who} carry no http.route, so journeys are keyed by span name and raw paths with ids fold into ` +
        `"{method} other". Use the web framework's OpenTelemetry instrumentation (it sets http.route to the matched ` +
        `template, e.g. /orders/:id) or set it on the server span.`,
      snippet: [
        "// on the server span, with the route template (never the raw path):",
        "span.setAttribute('http.route', '/orders/:id');",
        "span.updateName('GET /orders/:id');",
      ].join("\n"),
    });
  }
  if (t.hasMetrics && !t.hasHistogram) {
    out.push({
      ...base,
      kind: "missing-histogram",
      message:
        `${who} has request counters but no latency histogram, so no latency SLI can be proposed. Enable the HTTP ` +
        `server duration histogram (http.server.request.duration, seconds) with buckets ${seconds(buckets)} s.`,
      snippet: histogramSnippet(t, buckets),
    });
  }
  if (t.hasHistogram && t.histogramBoundsMs?.length && t.p95Ms !== undefined && t.p95Ms > 0) {
    const snapped = snapUpToBucket(t.p95Ms, t.histogramBoundsMs);
    if (snapped === undefined || snapped > 2 * t.p95Ms) {
      out.push({
        ...base,
        kind: "other",
        message:
          `the latency histogram of ${who} is too coarse around its p95 (${Math.round(t.p95Ms)} ms): the nearest bucket ` +
          `at or above it is ${snapped === undefined ? "+Inf" : `${snapped} ms`}, so a latency threshold would be far ` +
          `from what users see. Use buckets ${seconds(buckets)} s.`,
        snippet: histogramSnippet(t, buckets),
      });
    }
  }
  if (t.userFacing && !t.hasRum) {
    out.push({
      ...base,
      kind: "other",
      message:
        `${who} serves browsers but no RUM arrives: add Grafana Faro or the OpenTelemetry web SDK so web vitals ` +
        `(LCP, INP, CLS) can back a user-experience SLI.`,
      snippet: [
        "import { initializeFaro } from '@grafana/faro-web-sdk';",
        `initializeFaro({ url: '${t.otlpEndpoint ?? "http://slo-scout:3000"}/collect', app: { name: '${t.service}' } });`,
      ].join("\n"),
    });
  }
  return out;
}
