import { fileURLToPath } from "node:url";
import protobuf from "protobufjs";
import snappy from "snappyjs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { TelemetryEvent } from "../../../src/core/telemetry.js";
import { bodyOf, counter, type Harness, startHarness } from "./harness.js";

/** remote_write 1.0 answers: 204, 400 with the valid series still delivered, 413, 415, and stale markers. */

const WriteRequest = protobuf
  .loadSync(fileURLToPath(new URL("../../../schemas/prometheus/remote.proto", import.meta.url)))
  .lookupType("prometheus.WriteRequest");

type Series = { labels: Record<string, string>; samples: [number, number][] };

function writeRequest(series: Series[], metadata: { type: number; metricFamilyName: string }[] = []): Buffer {
  const msg = WriteRequest.fromObject({
    timeseries: series.map((s) => ({
      labels: Object.entries(s.labels)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([name, value]) => ({ name, value })),
      samples: s.samples.map(([timestamp, value]) => ({ timestamp, value })),
    })),
    metadata,
  });
  return Buffer.from(snappy.compress(WriteRequest.encode(msg).finish()));
}

const HEADERS = {
  "content-type": "application/x-protobuf",
  "content-encoding": "snappy",
  "x-prometheus-remote-write-version": "0.1.0",
  "user-agent": "Prometheus/2.42.0",
};

const T = 1_730_000_000_000;

describe("remote_write receiver", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ MAX_BODY_BYTES: String(1024 * 1024) });
  });
  afterAll(() => h.close());
  afterEach(() => {
    h.received.length = 0;
  });
  const send = (body: Buffer | string, headers: Record<string, string> = HEADERS) =>
    fetch(`${h.url}/api/v1/write`, { method: "POST", body: bodyOf(body), headers });

  it("answers 204 and publishes one event per series, typed from metadata", async () => {
    await send(writeRequest([], [{ type: 3, metricFamilyName: "http_request_duration_seconds" }]));
    const res = await send(
      writeRequest([
        {
          labels: {
            __name__: "http_request_duration_seconds_bucket",
            job: "api",
            le: "0.5",
            instance: "a:9",
          },
          samples: [
            [T + 15_000, 12],
            [T, 10],
          ],
        },
        { labels: { __name__: "up", job: "api", service: "orders" }, samples: [[T, 1]] },
        { labels: { __name__: "process_open_fds", job: "api", env: "" }, samples: [[T, 9]] },
      ]),
    );
    expect(res.status).toBe(204);
    await h.settle();
    for (const ev of h.received) expect(TelemetryEvent.parse(ev)).toEqual(ev);
    expect(h.received).toHaveLength(3);
    const byName = (n: string) => h.received.find((e) => e.kind === "metric" && e.metric.name === n);
    expect(byName("http_request_duration_seconds_bucket")).toMatchObject({
      kind: "metric",
      service: "api",
      time: T + 15_000,
      metric: {
        name: "http_request_duration_seconds_bucket",
        type: "histogram",
        labels: { job: "api", le: "0.5", instance: "a:9" },
        samples: [
          { time: T, value: 10 },
          { time: T + 15_000, value: 12 },
        ],
      },
    });
    // A `service` label wins over `job`; an empty label value is the same as no label.
    expect(byName("up")).toMatchObject({ service: "orders", metric: { type: "unknown" } });
    const fds = byName("process_open_fds");
    expect(fds?.kind === "metric" && fds.metric.labels).toEqual({ job: "api" });
  });

  it("drops stale markers (NaN) without calling the request invalid", async () => {
    const stale = Buffer.from("7ff0000000000002", "hex").readDoubleBE(0);
    const res = await send(
      writeRequest([
        {
          labels: { __name__: "up", job: "gone" },
          samples: [
            [T, 1],
            [T + 1000, stale],
          ],
        },
      ]),
    );
    expect(res.status).toBe(204);
    await h.settle();
    expect(h.received).toHaveLength(1);
    expect(h.received[0]).toMatchObject({ metric: { samples: [{ time: T, value: 1 }] } });
  });

  it("answers 400 naming the invalid series, after delivering the valid ones", async () => {
    const before = await counter(h.registry, "slo_scout_ingest_records_total", {
      receiver: "remote-write",
      signal: "metrics",
      outcome: "rejected",
    });
    const res = await send(
      writeRequest([
        { labels: { __name__: "ok_total", job: "api" }, samples: [[T, 1]] },
        {
          labels: { __name__: "9bad", job: "api" },
          samples: [
            [T, 1],
            [T + 1, 2],
          ],
        },
        { labels: { __name__: "no_job" }, samples: [[T, 1]] },
        { labels: { job: "api" }, samples: [[T, 1]] },
      ]),
    );
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(text).toMatch(/4 record\(s\) rejected/);
    expect(text).toMatch(/invalid metric name "9bad"/);
    expect(text).toMatch(/neither a service nor a job label/);
    expect(text).toMatch(/no __name__/);
    await h.settle();
    expect(h.received.map((e) => e.kind === "metric" && e.metric.name)).toEqual(["ok_total"]);
    expect(
      await counter(h.registry, "slo_scout_ingest_records_total", {
        receiver: "remote-write",
        signal: "metrics",
        outcome: "rejected",
      }),
    ).toBe(before + 4);
  });

  it.each([
    ["bad snappy", () => send(Buffer.from("definitely not snappy")), 400, /invalid snappy/],
    [
      "a snappy block declaring a huge output",
      // Varint length prefix 0x80 0x80 0x80 0x32 = 100 MiB, then nothing.
      () => send(Buffer.from([0x80, 0x80, 0x80, 0x32, 0x00])),
      413,
      /exceeds the limit/,
    ],
    [
      "truncated protobuf",
      () => send(Buffer.from(snappy.compress(Buffer.from([0x0a, 0x10, 0x0a])))),
      400,
      /invalid WriteRequest/,
    ],
    [
      "remote_write 2.0",
      () =>
        send(writeRequest([]), {
          ...HEADERS,
          "content-type": "application/x-protobuf;proto=io.prometheus.write.v2.Request",
        }),
      415,
      /unsupported Content-Type/,
    ],
    [
      "an uncompressed body",
      () => send(writeRequest([]), { ...HEADERS, "content-encoding": "identity" }),
      415,
      /snappy-compressed/,
    ],
    ["JSON", () => send("{}", { "content-type": "application/json" }), 415, /unsupported Content-Type/],
  ] as const)("refuses %s", async (_name, call, status, reason) => {
    const res = await call();
    expect(res.status).toBe(status);
    expect(await res.text()).toMatch(reason);
    await h.settle();
    expect(h.received).toHaveLength(0);
  });
});
