import { describe, expect, it } from "vitest";
import { CapsuleEvent } from "../../../src/core/capsule.js";
import { TelemetryEvent } from "../../../src/core/telemetry.js";
import {
  codecFor,
  decodeCapsuleEvent,
  decodeTelemetryEvent,
  encodeCapsuleEvent,
  encodeTelemetryEvent,
} from "../../../src/pipeline/bus/avro.js";
import { TOPICS } from "../../../src/pipeline/bus/bus.js";

const resource = { "service.version": "1.4.2", "host.cpu.count": 8, "k8s.ready": true, ratio: 0.25 };

const events: Record<string, TelemetryEvent[]> = {
  span: [
    TelemetryEvent.parse({
      schemaVersion: 1,
      kind: "span",
      service: "checkout",
      time: 1_732_700_000_123.456,
      attributes: resource,
      span: {
        traceId: "0af7651916cd43dd8448eb211c80319c",
        spanId: "b7ad6b7169203331",
        parentSpanId: "00f067aa0ba902b7",
        name: "POST /api/checkout",
        kind: "server",
        startTime: 1_732_700_000_000.5,
        endTime: 1_732_700_000_123.456,
        status: "error",
        statusMessage: "payment declined",
        attributes: { "http.route": "/api/checkout", "http.status_code": 502, retried: false },
        events: [{ name: "exception", time: 1_732_700_000_100, attributes: { "exception.type": "Timeout" } }],
      },
    }),
    // Every optional field absent: defaults fill in, nothing comes back as null.
    TelemetryEvent.parse({
      schemaVersion: 1,
      kind: "span",
      service: "cart",
      time: 0,
      span: {
        traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
        spanId: "00f067aa0ba902b7",
        name: "SELECT",
        kind: "client",
        startTime: 10,
        endTime: 11,
        status: "unset",
      },
    }),
  ],
  metric: [
    TelemetryEvent.parse({
      schemaVersion: 1,
      kind: "metric",
      service: "api-gateway",
      time: 1_732_700_000_000,
      attributes: { job: "api-gateway", instance: "10.0.0.7:9090" },
      metric: {
        name: "http_request_duration_seconds_bucket",
        type: "histogram",
        labels: { le: "0.25", route: "/api/cart", code: "200" },
        samples: [
          { time: 1_732_700_000_000, value: 1234 },
          { time: 1_732_700_015_000, value: 1240.5 },
          { time: 1_732_700_030_000, value: -0.000001 },
        ],
      },
    }),
    TelemetryEvent.parse({
      schemaVersion: 1,
      kind: "metric",
      service: "inventory",
      time: 5,
      metric: { name: "up", samples: [{ time: 5, value: 1 }] },
    }),
  ],
  log: [
    TelemetryEvent.parse({
      schemaVersion: 1,
      kind: "log",
      service: "payment",
      time: 1_732_700_000_001,
      attributes: { "log.file": "/var/log/payment.log" },
      log: {
        body: "charge failed for order 8812: gateway timeout after 3000 ms — réessayer",
        severity: "error",
        severityText: "ERROR",
        traceId: "0af7651916cd43dd8448eb211c80319c",
        spanId: "b7ad6b7169203331",
        attributes: { attempt: 3, "user.anonymous": true },
      },
    }),
    TelemetryEvent.parse({ schemaVersion: 1, kind: "log", service: "frontend", time: 2, log: { body: "" } }),
  ],
  rum: [
    TelemetryEvent.parse({
      schemaVersion: 1,
      kind: "rum",
      service: "shop-web",
      time: 1_732_700_000_002,
      attributes: { "browser.name": "Firefox" },
      rum: {
        type: "measurement",
        page: "/checkout",
        name: "web-vitals",
        values: { lcp: 2310.5, cls: 0.02, inp: 180 },
        sessionId: "s-91",
        traceId: "0af7651916cd43dd8448eb211c80319c",
      },
    }),
    TelemetryEvent.parse({
      schemaVersion: 1,
      kind: "rum",
      service: "shop-web",
      time: 3,
      rum: { type: "exception", name: "TypeError", message: "x is undefined" },
    }),
  ],
};

describe("TelemetryEvent Avro round trip", () => {
  for (const [kind, list] of Object.entries(events)) {
    it(`keeps every field of a ${kind} event`, () => {
      for (const event of list) {
        const decoded = decodeTelemetryEvent(encodeTelemetryEvent(event));
        expect(decoded).toStrictEqual(event);
        expect(TelemetryEvent.parse(decoded)).toStrictEqual(event);
      }
    });
  }

  it("covers every kind the contract has", () => {
    const kinds = TelemetryEvent.options.map((o) => o.shape.kind.value).sort();
    expect(Object.keys(events).sort()).toEqual(kinds);
  });

  it("is much smaller than JSON", () => {
    const event = events.span![0]!;
    expect(encodeTelemetryEvent(event).length).toBeLessThan(JSON.stringify(event).length * 0.8);
  });

  it("refuses a value outside the schema and names where", () => {
    const bad = { ...events.log![0]!, attributes: { nested: { no: 1 } } } as unknown as TelemetryEvent;
    expect(() => encodeTelemetryEvent(bad)).toThrow(
      /TelemetryEvent does not match its Avro schema at attributes/,
    );
    const badKind = { ...events.log![0]!, kind: "trace" } as unknown as TelemetryEvent;
    expect(() => encodeTelemetryEvent(badKind)).toThrow(/at kind/);
  });

  it("rejects a decoded value the contract forbids (kind without its branch)", () => {
    const { log: _log, ...noBranch } = events.log![0]! as Extract<TelemetryEvent, { kind: "log" }>;
    const buf = encodeTelemetryEvent(noBranch as unknown as TelemetryEvent);
    expect(() => decodeTelemetryEvent(buf)).toThrow();
  });

  it("rejects truncated bytes", () => {
    const buf = encodeTelemetryEvent(events.metric![0]!);
    expect(() => decodeTelemetryEvent(buf.subarray(0, buf.length - 3))).toThrow();
  });
});

describe("CapsuleEvent Avro round trip", () => {
  const capsule = CapsuleEvent.parse({
    fingerprint: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    template: "charge failed for order <num>: gateway timeout after <num> ms",
    service: "payment",
    severity: "error",
    time: 1_732_700_000_001.25,
    sample: "charge failed for order 8812: gateway timeout after 3000 ms",
  });

  it("keeps every field", () => {
    expect(decodeCapsuleEvent(encodeCapsuleEvent(capsule))).toStrictEqual(capsule);
  });

  it("validates the fingerprint on decode", () => {
    const buf = encodeCapsuleEvent({ ...capsule, fingerprint: "not-a-digest" });
    expect(() => decodeCapsuleEvent(buf)).toThrow(/sha256/);
  });
});

describe("codecFor", () => {
  it("uses Avro for the contract topics and JSON elsewhere", () => {
    const event = events.rum![0]!;
    const avroCodec = codecFor(TOPICS.rawTelemetry);
    expect(avroCodec.contentType).toMatch(/^avro\/binary/);
    expect(avroCodec.decode(avroCodec.encode(event))).toStrictEqual(event);
    const other = codecFor("audit");
    expect(other.contentType).toBe("application/json");
    expect(other.decode(other.encode({ a: [1, "b"] }))).toEqual({ a: [1, "b"] });
  });
});
