import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import Fastify, { type FastifyInstance } from "fastify";
import protobuf from "protobufjs";
import snappy from "snappyjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seededRandom } from "../../../src/core/random.js";
import { TelemetryEvent } from "../../../src/core/telemetry.js";
import { TOPICS } from "../../../src/pipeline/bus/bus.js";
import { MemoryBus } from "../../../src/pipeline/bus/memory.js";
import { otlpTypes } from "../../../src/pipeline/receivers/otlp-proto.js";
import { receiversPlugin } from "../../../src/pipeline/receivers/plugin.js";
import { testConfig } from "./harness.js";

/**
 * Thousands of random and mutated bodies per endpoint: every answer must be a 2xx or a 4xx (never a 5xx
 * or a crash), and whatever reaches the bus must still satisfy the TelemetryEvent contract.
 */

const PER_ENDPOINT = 1500;
const TIME_BUDGET_MS = 5_000;

function mutate(seed: Buffer, rand: () => number): Buffer {
  const b = Buffer.from(seed);
  const pick = rand();
  const pos = () => Math.floor(rand() * Math.max(1, b.length));
  if (pick < 0.25) {
    for (let i = 0; i < 1 + Math.floor(rand() * 8); i++) b[pos()] = Math.floor(rand() * 256);
    return b;
  }
  if (pick < 0.4) return b.subarray(0, pos());
  if (pick < 0.55) {
    const at = pos();
    const junk = Buffer.from(
      Array.from({ length: 1 + Math.floor(rand() * 16) }, () => Math.floor(rand() * 256)),
    );
    return Buffer.concat([b.subarray(0, at), junk, b.subarray(at)]);
  }
  if (pick < 0.7) {
    const from = pos();
    return Buffer.concat([b.subarray(0, from), b.subarray(pos())]);
  }
  if (pick < 0.8) {
    // Interesting values at a random place: varint extremes, JSON tokens, huge lengths.
    const tokens = [
      "\xff\xff\xff\xff\x0f",
      "null",
      "-1",
      "1e400",
      '"',
      "[",
      "{",
      "\u0000",
      "NaN",
      "\x80\x80\x80\x80\x80",
    ];
    const at = pos();
    const t = Buffer.from(tokens[Math.floor(rand() * tokens.length)]!, "latin1");
    return Buffer.concat([b.subarray(0, at), t, b.subarray(at)]);
  }
  return Buffer.from(Array.from({ length: Math.floor(rand() * 512) }, () => Math.floor(rand() * 256)));
}

/** Mutates a JSON document structurally (types swapped, keys dropped) as well as byte-wise. */
function mutateJson(value: unknown, rand: () => number): unknown {
  if (Array.isArray(value)) return value.map((v) => mutateJson(v, rand)).filter(() => rand() > 0.05);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (rand() > 0.05) out[k] = mutateJson(v, rand);
    return out;
  }
  const r = rand();
  if (r < 0.9) return value;
  const swaps = [null, 0, -1, 1e308, "", "zz", true, [], {}, "18446744073709551616", 2 ** 53 + 1];
  return swaps[Math.floor(rand() * swaps.length)];
}

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/receivers/${name}`, import.meta.url));

function seeds() {
  const t = otlpTypes();
  const service = { key: "service.name", value: { stringValue: "fuzz" } };
  const traceProto = Buffer.from(
    t.traces.request
      .encode(
        t.traces.request.fromObject({
          resourceSpans: [
            {
              resource: { attributes: [service] },
              scopeSpans: [
                {
                  spans: [
                    {
                      traceId: Buffer.alloc(16, 1),
                      spanId: Buffer.alloc(8, 2),
                      name: "x",
                      kind: 2,
                      startTimeUnixNano: "1730000000000000000",
                      endTimeUnixNano: "1730000000100000000",
                      attributes: [{ key: "a", value: { intValue: 5 } }],
                      events: [{ name: "e", timeUnixNano: "1730000000050000000" }],
                      status: { code: 2, message: "m" },
                    },
                  ],
                },
              ],
            },
          ],
        }),
      )
      .finish(),
  );
  const metricsProto = Buffer.from(
    t.metrics.request
      .encode(
        t.metrics.request.fromObject({
          resourceMetrics: [
            {
              resource: { attributes: [service] },
              scopeMetrics: [
                {
                  metrics: [
                    {
                      name: "reqs",
                      unit: "s",
                      histogram: {
                        aggregationTemporality: 2,
                        dataPoints: [
                          {
                            timeUnixNano: "1730000000000000000",
                            count: 3,
                            sum: 1.5,
                            explicitBounds: [0.1, 1],
                            bucketCounts: [1, 1, 1],
                          },
                        ],
                      },
                    },
                    {
                      name: "g",
                      gauge: { dataPoints: [{ asDouble: 2, timeUnixNano: "1730000000000000000" }] },
                    },
                  ],
                },
              ],
            },
          ],
        }),
      )
      .finish(),
  );
  const logsProto = Buffer.from(
    t.logs.request
      .encode(
        t.logs.request.fromObject({
          resourceLogs: [
            {
              resource: { attributes: [service] },
              scopeLogs: [
                {
                  logRecords: [
                    {
                      body: { stringValue: "hello" },
                      severityNumber: 17,
                      timeUnixNano: "1730000000000000000",
                    },
                  ],
                },
              ],
            },
          ],
        }),
      )
      .finish(),
  );
  const WriteRequest = protobuf
    .loadSync(fileURLToPath(new URL("../../../schemas/prometheus/remote.proto", import.meta.url)))
    .lookupType("prometheus.WriteRequest");
  const writeRequest = Buffer.from(
    WriteRequest.encode(
      WriteRequest.fromObject({
        timeseries: [
          {
            labels: [
              { name: "__name__", value: "up" },
              { name: "job", value: "a" },
            ],
            samples: [{ value: 1, timestamp: 1730000000000 }],
          },
        ],
      }),
    ).finish(),
  );
  return { traceProto, metricsProto, logsProto, writeRequest };
}

describe("receivers under fuzzed input", () => {
  let app: FastifyInstance;
  const bus = new MemoryBus({ capacity: 1_000_000 });
  const published: unknown[] = [];
  const s = seeds();

  beforeAll(async () => {
    await bus.subscribe(TOPICS.rawTelemetry, "fuzz", async (b) => {
      for (const m of b.messages) published.push(m.value);
    });
    app = Fastify({ logger: false });
    await app.register(receiversPlugin, { bus, config: testConfig({ MAX_BODY_BYTES: String(1024 * 1024) }) });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await bus.close();
  });

  type Case = { url: string; contentType: string; encoding?: string; make: (rand: () => number) => Buffer };
  const jsonCase = (url: string, seed: Buffer, contentType = "application/json"): Case => ({
    url,
    contentType,
    make: (rand) => {
      if (rand() < 0.5)
        return Buffer.from(JSON.stringify(mutateJson(JSON.parse(seed.toString()), rand)) ?? "");
      return mutate(seed, rand);
    },
  });
  const cases: Record<string, Case[]> = {
    "/v1/traces": [
      { url: "/v1/traces", contentType: "application/x-protobuf", make: (r) => mutate(s.traceProto, r) },
      jsonCase("/v1/traces", fixture("otlp-traces.json")),
      {
        url: "/v1/traces",
        contentType: "application/json",
        encoding: "gzip",
        make: (r) =>
          r() < 0.5
            ? gzipSync(mutate(fixture("otlp-traces.json"), r))
            : mutate(gzipSync(fixture("otlp-traces.json")), r),
      },
    ],
    "/v1/metrics": [
      { url: "/v1/metrics", contentType: "application/x-protobuf", make: (r) => mutate(s.metricsProto, r) },
    ],
    "/v1/logs": [
      { url: "/v1/logs", contentType: "application/x-protobuf", make: (r) => mutate(s.logsProto, r) },
    ],
    "/api/v1/write": [
      {
        url: "/api/v1/write",
        contentType: "application/x-protobuf",
        encoding: "snappy",
        make: (r) =>
          r() < 0.6
            ? Buffer.from(snappy.compress(mutate(s.writeRequest, r)))
            : mutate(Buffer.from(snappy.compress(s.writeRequest)), r),
      },
    ],
    "/ingest/fluentbit": [
      jsonCase("/ingest/fluentbit", fixture("fluentbit-json.json")),
      {
        url: "/ingest/fluentbit",
        contentType: "application/x-ndjson",
        make: (r) => mutate(fixture("fluentbit-json-lines.ndjson"), r),
      },
      {
        url: "/ingest/fluentbit",
        contentType: "application/msgpack",
        make: (r) => mutate(fixture("fluentbit.msgpack"), r),
      },
    ],
    "/ingest/rum": [jsonCase("/ingest/rum", fixture("faro.json"))],
  };

  it.each(Object.keys(cases))(
    "%s never answers 5xx",
    async (endpoint) => {
      const rand = seededRandom(endpoint.length * 7919);
      const list = cases[endpoint]!;
      const statuses = new Map<number, number>();
      const started = Date.now();
      let sent = 0;
      for (; sent < PER_ENDPOINT && Date.now() - started < TIME_BUDGET_MS; sent++) {
        const c = list[sent % list.length]!;
        const body = c.make(rand);
        const res = await app.inject({
          method: "POST",
          url: c.url,
          payload: body,
          headers: {
            "content-type": c.contentType,
            ...(c.encoding ? { "content-encoding": c.encoding } : {}),
          },
        });
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        if (res.statusCode >= 500) {
          throw new Error(
            `${endpoint} answered ${res.statusCode} (${res.body}) to base64 body ${body.toString("base64")}`,
          );
        }
      }
      expect(sent).toBeGreaterThanOrEqual(Math.min(PER_ENDPOINT, 300));
      // Both outcomes occur: mutations that stay valid are accepted, the rest are refused with a 4xx.
      expect([...statuses.keys()].some((c) => c < 300)).toBe(true);
      expect([...statuses.keys()].some((c) => c >= 400)).toBe(true);
      await bus.flush();
      for (const ev of published.splice(0)) {
        const parsed = TelemetryEvent.safeParse(ev);
        if (!parsed.success)
          throw new Error(
            `${endpoint} published an invalid event: ${parsed.error.message}\n${JSON.stringify(ev)}`,
          );
      }
    },
    30_000,
  );
});
