import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { gzipSync } from "node:zlib";
import protobuf from "protobufjs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { TelemetryEvent } from "../../../src/core/telemetry.js";
import { otlpTypes } from "../../../src/pipeline/receivers/otlp-proto.js";
import { bodyOf, counter, type Harness, startHarness } from "./harness.js";

/** OTLP/HTTP behaviour a client sees: encodings, partial success and every documented error answer. */

const fixture = readFileSync(new URL("../../fixtures/receivers/otlp-traces.json", import.meta.url));
const RpcStatus = new protobuf.Type("Status")
  .add(new protobuf.Field("code", 1, "int32"))
  .add(new protobuf.Field("message", 2, "string"));

function spanJson(overrides: Record<string, unknown> = {}) {
  return {
    traceId: "5b8efff798038103d269b633813fc60c",
    spanId: "eee19b7ec3c1b174",
    name: "GET /",
    kind: 2,
    startTimeUnixNano: "1730000000000000000",
    endTimeUnixNano: "1730000000100000000",
    ...overrides,
  };
}

function tracesJson(spans: unknown[], service: string | null = "checkout") {
  const attributes = service === null ? [] : [{ key: "service.name", value: { stringValue: service } }];
  return JSON.stringify({ resourceSpans: [{ resource: { attributes }, scopeSpans: [{ spans }] }] });
}

function tracesProto(spans: Record<string, unknown>[]) {
  const type = otlpTypes().traces.request;
  return Buffer.from(
    type
      .encode(
        type.fromObject({
          resourceSpans: [
            {
              resource: { attributes: [{ key: "service.name", value: { stringValue: "checkout" } }] },
              scopeSpans: [{ spans }],
            },
          ],
        }),
      )
      .finish(),
  );
}

const protoSpan = (overrides: Record<string, unknown> = {}) => ({
  traceId: Buffer.from("5b8efff798038103d269b633813fc60c", "hex"),
  spanId: Buffer.from("eee19b7ec3c1b174", "hex"),
  name: "GET /",
  kind: 2,
  startTimeUnixNano: "1730000000000000000",
  endTimeUnixNano: "1730000000100000000",
  ...overrides,
});

async function post(h: Harness, path: string, body: Buffer | string, headers: Record<string, string>) {
  return fetch(`${h.url}${path}`, { method: "POST", body: bodyOf(body), headers });
}

describe("OTLP/HTTP receiver", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ MAX_BODY_BYTES: String(64 * 1024), CORS_ORIGINS: "https://shop.example" });
  });
  afterAll(() => h.close());
  afterEach(() => {
    h.received.length = 0;
  });

  it("decodes OTLP JSON as the web SDK sends it (hex ids in any case, integer enums, int64 strings or numbers)", async () => {
    const res = await post(h, "/v1/traces", fixture, { "content-type": "application/json" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/application\/json/);
    expect(await res.json()).toEqual({});
    await h.settle();
    expect(h.received).toHaveLength(2);
    for (const ev of h.received) expect(TelemetryEvent.parse(ev)).toEqual(ev);
    const [root, child] = h.received;
    expect(root).toMatchObject({
      service: "checkout",
      time: 1730000000000,
      attributes: { "service.version": "1.4.2" },
      span: {
        traceId: "5b8efff798038103d269b633813fc60c",
        spanId: "eee19b7ec3c1b174",
        kind: "server",
        status: "unset",
        startTime: 1730000000000,
        endTime: 1730000000123,
        attributes: {
          "http.request.method": "POST",
          "http.route": "/api/orders",
          "http.response.status_code": 201,
          retry: false,
          ratio: 0.25,
          tags: '["a",2]',
        },
        events: [{ name: "validated", time: 1730000000050 }],
      },
    });
    expect(root?.kind === "span" && root.span.parentSpanId).toBeUndefined();
    expect(child).toMatchObject({
      span: {
        parentSpanId: "eee19b7ec3c1b174",
        kind: "client",
        status: "error",
        statusMessage: "card declined",
      },
    });
    if (child?.kind === "span") expect(child.span.startTime).toBeCloseTo(1730000000010, 0);
  });

  it("answers protobuf with a protobuf ExportTraceServiceResponse", async () => {
    const res = await post(h, "/v1/traces", tracesProto([protoSpan()]), {
      "content-type": "application/x-protobuf",
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/x-protobuf");
    const body = otlpTypes().traces.response.decode(new Uint8Array(await res.arrayBuffer())) as {
      partialSuccess?: unknown;
    };
    expect(body.partialSuccess).toBeNull();
    await h.settle();
    expect(h.received).toHaveLength(1);
  });

  it("accepts gzip bodies", async () => {
    const res = await post(h, "/v1/traces", gzipSync(fixture), {
      "content-type": "application/json",
      "content-encoding": "gzip",
    });
    expect(res.status).toBe(200);
    await h.settle();
    expect(h.received).toHaveLength(2);
  });

  it("keeps the good records and reports the rest as partial_success (JSON)", async () => {
    const body = tracesJson([spanJson(), spanJson({ spanId: "00f067aa0ba902b7", kind: 9 })]);
    const res = await post(h, "/v1/traces", body, { "content-type": "application/json" });
    expect(res.status).toBe(200);
    const json = (await res.json()) as { partialSuccess: { rejectedSpans: string; errorMessage: string } };
    expect(json.partialSuccess.rejectedSpans).toBe("1");
    expect(json.partialSuccess.errorMessage).toMatch(/unknown span kind 9/);
    await h.settle();
    expect(h.received).toHaveLength(1);
  });

  it("reports partial_success in protobuf too", async () => {
    const body = tracesProto([protoSpan(), protoSpan({ spanId: Buffer.alloc(8) })]);
    const res = await post(h, "/v1/traces", body, { "content-type": "application/x-protobuf" });
    expect(res.status).toBe(200);
    const decoded = otlpTypes().traces.response.toObject(
      otlpTypes().traces.response.decode(new Uint8Array(await res.arrayBuffer())),
      { longs: Number },
    );
    expect(decoded.partialSuccess).toMatchObject({
      rejectedSpans: 1,
      errorMessage: expect.stringMatching(/invalid spanId/),
    });
  });

  it("counts accepted and rejected records", async () => {
    const labels = { receiver: "otlp-http", signal: "traces" };
    const before = await counter(h.registry, "slo_scout_ingest_records_total", {
      ...labels,
      outcome: "rejected",
    });
    await post(h, "/v1/traces", tracesJson([spanJson(), spanJson({ kind: "SPAN_KIND_BOGUS" })]), {
      "content-type": "application/json",
    });
    expect(
      await counter(h.registry, "slo_scout_ingest_records_total", { ...labels, outcome: "rejected" }),
    ).toBe(before + 1);
    expect(
      await counter(h.registry, "slo_scout_ingest_records_total", { ...labels, outcome: "accepted" }),
    ).toBeGreaterThan(0);
  });

  it("treats an empty request as success", async () => {
    const res = await post(h, "/v1/logs", "{}", { "content-type": "application/json" });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({});
  });

  describe("refuses bad input with the documented status and a reason", () => {
    const cases: [string, () => [string, Buffer | string, Record<string, string>], number, RegExp][] = [
      [
        "truncated protobuf",
        () => [
          "/v1/traces",
          tracesProto([protoSpan()]).subarray(0, 20),
          { "content-type": "application/x-protobuf" },
        ],
        400,
        /invalid OTLP protobuf/,
      ],
      [
        "invalid JSON",
        () => ["/v1/traces", '{"resourceSpans": [', { "content-type": "application/json" }],
        400,
        /invalid JSON/,
      ],
      [
        "a JSON array instead of an object",
        () => ["/v1/metrics", "[]", { "content-type": "application/json" }],
        400,
        /must be an object with resourceMetrics/,
      ],
      [
        "resourceSpans that is not an array",
        () => ["/v1/traces", '{"resourceSpans": {"a": 1}}', { "content-type": "application/json" }],
        400,
        /resourceSpans must be an array/,
      ],
      [
        "an unknown content type",
        () => ["/v1/traces", "hello", { "content-type": "text/plain" }],
        415,
        /unsupported Content-Type/,
      ],
      [
        "an unknown content encoding",
        () => ["/v1/traces", fixture, { "content-type": "application/json", "content-encoding": "br" }],
        415,
        /unsupported Content-Encoding/,
      ],
      [
        "an oversized body",
        () => ["/v1/traces", Buffer.alloc(65 * 1024, 0x20), { "content-type": "application/json" }],
        413,
        /exceeds the limit of 65536 bytes/,
      ],
      [
        "a gzip bomb",
        () => [
          "/v1/traces",
          gzipSync(Buffer.alloc(8 * 1024 * 1024, 0x20)),
          { "content-type": "application/json", "content-encoding": "gzip" },
        ],
        413,
        /decompressed body exceeds the limit/,
      ],
      [
        "broken gzip",
        () => [
          "/v1/traces",
          Buffer.from("not gzip at all"),
          { "content-type": "application/json", "content-encoding": "gzip" },
        ],
        400,
        /invalid gzip body/,
      ],
      [
        "an unknown enum value",
        () => [
          "/v1/traces",
          tracesJson([spanJson({ status: { code: 7 } })]),
          { "content-type": "application/json" },
        ],
        400,
        /unknown status code 7/,
      ],
      [
        "an unknown severity number",
        () => [
          "/v1/logs",
          JSON.stringify({
            resourceLogs: [
              {
                resource: { attributes: [{ key: "service.name", value: { stringValue: "a" } }] },
                scopeLogs: [{ logRecords: [{ severityNumber: 99, body: { stringValue: "x" } }] }],
              },
            ],
          }),
          { "content-type": "application/json" },
        ],
        400,
        /unknown severityNumber 99/,
      ],
      [
        "a missing service",
        () => ["/v1/traces", tracesJson([spanJson()], null), { "content-type": "application/json" }],
        400,
        /no service.name/,
      ],
      [
        "a bad trace id",
        () => [
          "/v1/traces",
          tracesJson([spanJson({ traceId: "xyz" })]),
          { "content-type": "application/json" },
        ],
        400,
        /invalid traceId/,
      ],
      [
        "delta temporality",
        () => [
          "/v1/metrics",
          JSON.stringify({
            resourceMetrics: [
              {
                resource: { attributes: [{ key: "service.name", value: { stringValue: "a" } }] },
                scopeMetrics: [
                  {
                    metrics: [
                      {
                        name: "reqs",
                        sum: {
                          aggregationTemporality: 1,
                          isMonotonic: true,
                          dataPoints: [{ asInt: "1", timeUnixNano: "1" }],
                        },
                      },
                    ],
                  },
                ],
              },
            ],
          }),
          { "content-type": "application/json" },
        ],
        400,
        /delta temporality/,
      ],
    ];

    it.each(cases)("%s", async (_name, make, status, reason) => {
      const [path, body, headers] = make();
      const res = await post(h, path, body, headers);
      expect(res.status).toBe(status);
      const json = (
        res.headers.get("content-type") === "application/x-protobuf"
          ? RpcStatus.decode(new Uint8Array(await res.arrayBuffer()))
          : await res.json()
      ) as { code: number; message: string };
      expect(json.message).toMatch(reason);
      expect(json.code).toBe(status === 413 ? 8 : 3);
      await h.settle();
      expect(h.received).toHaveLength(0);
    });

    it("answers a protobuf request's error with a protobuf google.rpc.Status", async () => {
      const res = await post(h, "/v1/traces", Buffer.from([0x0a, 0xff, 0xff]), {
        "content-type": "application/x-protobuf",
      });
      expect(res.status).toBe(400);
      expect(res.headers.get("content-type")).toBe("application/x-protobuf");
      const status = RpcStatus.decode(new Uint8Array(await res.arrayBuffer())) as unknown as {
        code: number;
        message: string;
      };
      expect(status.code).toBe(3);
      expect(status.message).toMatch(/invalid OTLP protobuf/);
    });
  });

  it("answers a browser's CORS preflight for an allowed origin only", async () => {
    const preflight = (origin: string) =>
      fetch(`${h.url}/v1/traces`, {
        method: "OPTIONS",
        headers: {
          origin,
          "access-control-request-method": "POST",
          "access-control-request-headers": "content-type",
        },
      });
    const ok = await preflight("https://shop.example");
    expect(ok.status).toBeLessThan(300);
    expect(ok.headers.get("access-control-allow-origin")).toBe("https://shop.example");
    expect(ok.headers.get("access-control-allow-credentials")).toBe("true");
    const other = await preflight("https://evil.example");
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("OTLP/HTTP under load limits", () => {
  it("answers 503 with Retry-After when the bus cannot take more, and accepts nothing", async () => {
    const h = await startHarness({}, { capacity: 1 }, { consume: false });
    try {
      const first = await post(h, "/v1/traces", fixture, { "content-type": "application/json" });
      expect(first.status).toBe(200);
      const second = await post(h, "/v1/traces", fixture, { "content-type": "application/json" });
      expect(second.status).toBe(503);
      expect(second.headers.get("retry-after")).toMatch(/^\d+$/);
      expect(((await second.json()) as { code: number }).code).toBe(14);
      expect(
        await counter(h.registry, "slo_scout_ingest_records_total", {
          receiver: "otlp-http",
          signal: "traces",
          outcome: "accepted",
        }),
      ).toBe(2);
      expect(
        await counter(h.registry, "slo_scout_ingest_requests_total", { receiver: "otlp-http", code: "503" }),
      ).toBe(1);
    } finally {
      await h.close();
    }
  });

  it("frees the buffer of clients that hang up mid-body", async () => {
    const h = await startHarness({ MAX_BODY_BYTES: "1000" });
    try {
      const { port } = new URL(h.url);
      for (let i = 0; i < 6; i++) {
        await new Promise<void>((resolve) => {
          const socket = connect(Number(port), "127.0.0.1", () => {
            socket.write(
              'POST /v1/traces HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 900\r\n\r\n{"resourceSpans"',
            );
            setTimeout(() => {
              socket.destroy();
              resolve();
            }, 50);
          });
        });
      }
      await new Promise((r) => setTimeout(r, 100));
      // Four aborted 900-byte bodies would hold 3,600 of the 4,000 buffered bytes if they were not freed.
      const big = await post(h, "/v1/traces", `{"resourceSpans":[]${" ".repeat(800)}}`, {
        "content-type": "application/json",
      });
      expect(big.status).toBe(200);
    } finally {
      await h.close();
    }
  });

  it("rate-limits per source IP with 429 and Retry-After", async () => {
    const h = await startHarness({ RATE_LIMIT_PER_MINUTE: "3" });
    try {
      const codes: number[] = [];
      let retryAfter: string | null = null;
      for (let i = 0; i < 5; i++) {
        const res = await post(h, "/v1/traces", fixture, { "content-type": "application/json" });
        codes.push(res.status);
        if (res.status === 429) retryAfter = res.headers.get("retry-after");
        await res.arrayBuffer();
      }
      expect(codes).toEqual([200, 200, 200, 429, 429]);
      expect(Number(retryAfter)).toBeGreaterThan(0);
    } finally {
      await h.close();
    }
  });
});
