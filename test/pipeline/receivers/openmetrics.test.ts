import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { decodeOffline } from "../../../src/pipeline/receivers/offline.js";

const T = 1_764_000_000; // seconds, as OpenMetrics writes timestamps

const text = [
  "# TYPE http_requests counter",
  "# HELP http_requests Requests.",
  `http_requests_total{job="checkout",code="500"} 3 ${T + 600}`,
  `http_requests_total{job="checkout",code="200"} 90 ${T}`,
  `http_requests_total{job="checkout",code="200"} 120 ${T + 300}`,
  `http_requests_total{job="checkout",code="200"} 100 ${T + 60}`,
  "# TYPE queue_depth gauge",
  `queue_depth{service="worker",queue="a\\"b"} 7 ${T}.5`,
  "queue_depth 1",
  `queue_depth{queue="x"} 2 ${T}`,
  "# EOF",
  `after_eof{job="x"} 1 ${T}`,
].join("\n");

describe("OpenMetrics import (slo-scout ingest --format openmetrics)", () => {
  it("groups samples into series in time order, with types, services and the reasons for what it refuses", async () => {
    const chunks = [];
    for await (const c of decodeOffline(Readable.from([Buffer.from(text)]), {
      format: "openmetrics",
      fluentBitServiceKey: "service",
      maxBodyBytes: 1 << 20,
    })) {
      chunks.push(c);
    }
    expect(chunks).toHaveLength(1);
    const { result, signal } = chunks[0]!;
    expect(signal).toBe("metrics");
    expect(result).toMatchObject({ accepted: 5, rejected: 2 });
    expect(result.reasons).toEqual([
      "queue_depth has no timestamp (an import needs the time of every sample)",
      "queue_depth names no service (a service or job label, or --service)",
    ]);
    const ok = result.events.find((e) => e.kind === "metric" && e.metric.labels.code === "200");
    expect(ok).toMatchObject({
      service: "checkout",
      time: (T + 300) * 1000,
      metric: {
        name: "http_requests_total",
        type: "counter",
        samples: [
          { time: T * 1000, value: 90 },
          { time: (T + 60) * 1000, value: 100 },
          { time: (T + 300) * 1000, value: 120 },
        ],
      },
    });
    const gauge = result.events.find((e) => e.kind === "metric" && e.metric.name === "queue_depth");
    expect(gauge).toMatchObject({
      service: "worker",
      metric: {
        type: "gauge",
        labels: { service: "worker", queue: 'a"b' },
        samples: [{ time: T * 1000 + 500, value: 7 }],
      },
    });
    expect(result.events).toHaveLength(3);
  });
});
