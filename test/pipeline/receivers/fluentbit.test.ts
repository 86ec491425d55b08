import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type TelemetryEvent, TelemetryEvent as TelemetryEventSchema } from "../../../src/core/telemetry.js";
import { decodeFluentBit } from "../../../src/pipeline/receivers/fluentbit.js";
import { bodyOf, type Harness, startHarness } from "./harness.js";

/** Fluent Bit's http output in its three formats, as recorded in test/fixtures/receivers. */

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/receivers/${name}`, import.meta.url));
const logs = (events: TelemetryEvent[]) =>
  events.flatMap((e) =>
    e.kind === "log"
      ? [{ service: e.service, time: e.time, body: e.log.body, severity: e.log.severity }]
      : [],
  );

describe("Fluent Bit receiver", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());
  afterEach(() => {
    h.received.length = 0;
  });
  const send = (body: Buffer | string, headers: Record<string, string>) =>
    fetch(`${h.url}/ingest/fluentbit`, {
      method: "POST",
      body: bodyOf(body),
      headers: { "user-agent": "Fluent-Bit", ...headers },
    });

  it("decodes format json (an array) with date as fractional epoch seconds and the service from kubernetes labels", async () => {
    const res = await send(fixture("fluentbit-json.json"), { "content-type": "application/json" });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ accepted: 3, rejected: 0 });
    await h.settle();
    for (const ev of h.received) expect(TelemetryEventSchema.parse(ev)).toEqual(ev);
    const got = logs(h.received).sort((a, b) => a.time - b.time);
    expect(got).toEqual([
      {
        service: "checkout",
        time: 1730000000123.456,
        body: "2024-10-27T03:33:20.123Z INFO checkout order 42 placed in 87ms",
        severity: "info",
      },
      {
        service: "payments",
        time: 1730000001500,
        body: "2024-10-27T03:33:21.500Z ERROR payments charge failed: card declined",
        severity: "error",
      },
      { service: "cart", time: 1730000002250, body: "cart updated", severity: "warn" },
    ]);
    const checkout = h.received.find((e) => e.service === "checkout");
    expect(checkout?.attributes).toMatchObject({
      stream: "stdout",
      "kubernetes.namespace_name": "shop",
      "kubernetes.pod_name": "checkout-7d9f8b6c4-x2k9p",
      "kubernetes.labels.app": "checkout",
    });
    expect(checkout?.attributes.date).toBeUndefined();
    expect(checkout?.attributes.log).toBeUndefined();
  });

  it("decodes format json_lines and rejects the record without a service, keeping the rest", async () => {
    const res = await send(fixture("fluentbit-json-lines.ndjson"), {
      "content-type": "application/x-ndjson",
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { accepted: number; rejected: number; errors: string[] };
    expect(body).toMatchObject({ accepted: 2, rejected: 1 });
    expect(body.errors[0]).toMatch(/no service \(key service, or kubernetes.labels.app\)/);
    await h.settle();
    expect(logs(h.received).map((l) => [l.service, l.body, l.severity])).toEqual(
      expect.arrayContaining([
        ["cart", "GET /api/cart 200 12ms", "info"],
        ["cart", "GET /api/cart 500 1200ms", "error"],
      ]),
    );
  });

  it("decodes format msgpack: v2 [[EventTime, metadata], record], legacy [EventTime, record] and integer times", async () => {
    const res = await send(fixture("fluentbit.msgpack"), { "content-type": "application/msgpack" });
    expect(res.status).toBe(200);
    await h.settle();
    expect(logs(h.received).sort((a, b) => a.time - b.time)).toEqual([
      { service: "checkout", time: 1730000000123.456, body: "GET /api/orders 201 87ms", severity: "info" },
      { service: "payments", time: 1730000001500, body: "payment declined", severity: "error" },
      { service: "cart", time: 1730000002000, body: "legacy v1 event", severity: "info" },
      { service: "cart", time: 1730000003000, body: "integer timestamp", severity: "info" },
    ]);
  });

  it("accepts gzip (compress gzip) and json_stream's concatenated objects", async () => {
    const stream =
      '{"date":1730000000.5,"log":"a","service":"s"}{"date":1730000001,"log":"b {not a brace}","service":"s"}\n';
    const res = await send(gzipSync(stream), {
      "content-type": "application/json",
      "content-encoding": "gzip",
    });
    expect(res.status).toBe(200);
    await h.settle();
    expect(logs(h.received).map((l) => l.body)).toEqual(["a", "b {not a brace}"]);
  });

  it("tags events with the FLUENT-TAG header when Fluent Bit sends it", async () => {
    await send('[{"log":"x","service":"s","date":1730000000}]', {
      "content-type": "application/json",
      "fluent-tag": "kube.var.log",
    });
    await h.settle();
    expect(h.received[0]?.attributes["fluentbit.tag"]).toBe("kube.var.log");
  });

  it.each([
    ["invalid JSON", '[{"log": "x"', "application/json", 400, /invalid JSON/],
    [
      "a bad json_lines line",
      '{"log":"x","service":"s"}\n{oops}\n',
      "application/x-ndjson",
      400,
      /invalid JSON in line 2/,
    ],
    ["invalid msgpack", Buffer.from([0xc1, 0xc1]), "application/msgpack", 400, /invalid msgpack/],
    [
      "records without any service",
      '[{"log":"x"},{"log":"y"}]',
      "application/json",
      400,
      /2 record\(s\) rejected/,
    ],
    ["a non-object record", '[1, "two"]', "application/json", 400, /not an object/],
    [
      "an unreadable date",
      '[{"log":"x","service":"s","date":"yesterday"}]',
      "application/json",
      400,
      /unreadable date/,
    ],
    ["an unknown content type", "log line", "text/plain", 415, /Fluent Bit sends/],
  ] as const)("refuses %s", async (_name, body, type, status, reason) => {
    const res = await send(body as string, { "content-type": type });
    expect(res.status).toBe(status);
    const json = (await res.json()) as { error: { code: string; message: string } };
    expect(json.error.message).toMatch(reason);
    await h.settle();
    expect(h.received).toHaveLength(0);
  });
});

describe("decodeFluentBit service key", () => {
  it("reads the configured key as a nested path or a flat dotted key", () => {
    const body = Buffer.from(
      JSON.stringify([
        { log: "a", resource: { service: { name: "nested" } } },
        { log: "b", "resource.service.name": "flat" },
        { log: "c", kubernetes: { labels: { "app.kubernetes.io/name": "k8s-name" } } },
      ]),
    );
    const result = decodeFluentBit(body, "json", { serviceKey: "resource.service.name", now: 1 });
    expect(result.events.map((e) => e.service)).toEqual(["nested", "flat", "k8s-name"]);
  });
});

describe("decodeFluentBit attributes", () => {
  it("flattens nested keys, writes arrays and a fourth nesting level as JSON, and keeps at most 64 distinct keys", () => {
    const wide: Record<string, unknown> = {
      log: "x",
      service: "s",
      // The same attribute twice (flat and nested) counts once toward the cap.
      "a.b": 1,
      a: { b: 2, deep: { c: { d: { e: 1 } } }, list: [1, "two"] },
    };
    for (let i = 0; i < 100; i++) wide[`k${String(i).padStart(3, "0")}`] = i;
    const [event] = decodeFluentBit(Buffer.from(JSON.stringify(wide)), "json", {
      serviceKey: "service",
    }).events;
    const attributes = event!.attributes;
    expect(Object.keys(attributes)).toHaveLength(64);
    expect(attributes).toMatchObject({
      service: "s",
      "a.b": 2,
      "a.deep.c.d": '{"e":1}',
      "a.list": '[1,"two"]',
      k000: 0,
    });
    expect(attributes.k059).toBe(59);
    expect(attributes.k060).toBeUndefined();
  });
});
