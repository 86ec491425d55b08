import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import protobuf from "protobufjs";

/**
 * The OTLP message types, loaded with protobufjs from the official opentelemetry-proto `.proto` files
 * that `@elastic/mockotlpserver` ships (kept in sync with upstream by its maintainers). The package is
 * used only as the carrier of those files; nothing of its server is loaded.
 */

export type OtlpSignal = "traces" | "metrics" | "logs";

const SERVICE_FILES: Record<OtlpSignal, string> = {
  traces: "opentelemetry/proto/collector/trace/v1/trace_service.proto",
  metrics: "opentelemetry/proto/collector/metrics/v1/metrics_service.proto",
  logs: "opentelemetry/proto/collector/logs/v1/logs_service.proto",
};

const NAMES: Record<OtlpSignal, { pkg: string; service: string; request: string; response: string }> = {
  traces: {
    pkg: "opentelemetry.proto.collector.trace.v1",
    service: "TraceService",
    request: "ExportTraceServiceRequest",
    response: "ExportTraceServiceResponse",
  },
  metrics: {
    pkg: "opentelemetry.proto.collector.metrics.v1",
    service: "MetricsService",
    request: "ExportMetricsServiceRequest",
    response: "ExportMetricsServiceResponse",
  },
  logs: {
    pkg: "opentelemetry.proto.collector.logs.v1",
    service: "LogsService",
    request: "ExportLogsServiceRequest",
    response: "ExportLogsServiceResponse",
  },
};

export interface OtlpTypes {
  request: protobuf.Type;
  response: protobuf.Type;
  /** gRPC method path, e.g. `/opentelemetry.proto.collector.trace.v1.TraceService/Export`. */
  grpcPath: string;
}

let loaded: Record<OtlpSignal, OtlpTypes> | undefined;

function protoDir(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve("@elastic/mockotlpserver/package.json"));
}

/** Loads (once) and returns the request/response types of each OTLP signal. */
export function otlpTypes(): Record<OtlpSignal, OtlpTypes> {
  if (loaded) return loaded;
  const base = protoDir();
  const root = new protobuf.Root();
  // The files import each other by their path from the proto root ("opentelemetry/proto/…").
  root.resolvePath = (_origin, target) => (target.startsWith(base) ? target : join(base, target));
  root.loadSync(Object.values(SERVICE_FILES).map((f) => join(base, f)));
  root.resolveAll();
  const entry = (signal: OtlpSignal): OtlpTypes => {
    const n = NAMES[signal];
    return {
      request: root.lookupType(`${n.pkg}.${n.request}`),
      response: root.lookupType(`${n.pkg}.${n.response}`),
      grpcPath: `/${n.pkg}.${n.service}/Export`,
    };
  };
  loaded = { traces: entry("traces"), metrics: entry("metrics"), logs: entry("logs") };
  return loaded;
}
