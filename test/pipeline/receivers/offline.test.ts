import { readFileSync } from "node:fs";
import { Readable } from "node:stream";
import { ExtData, encode } from "@msgpack/msgpack";
import { describe, expect, it } from "vitest";
import { TelemetryEvent } from "../../../src/core/telemetry.js";
import { createDemoShop } from "../../../src/demo/index.js";
import {
  decodeOffline,
  type OfflineChunk,
  type OfflineOptions,
  validateEvents,
} from "../../../src/pipeline/receivers/offline.js";
import { lineTime } from "../../../src/pipeline/receivers/text.js";

/** The offline CLI's decoding: same decoders, chunked input, the formats detected from the bytes. */

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/receivers/${name}`, import.meta.url));

async function decode(
  input: Buffer | string,
  options: Partial<OfflineOptions> & Pick<OfflineOptions, "format">,
) {
  // Tiny chunks make lines and binary documents straddle chunk boundaries.
  const bytes = typeof input === "string" ? Buffer.from(input) : input;
  const pieces = Array.from({ length: Math.ceil(bytes.length / 7) }, (_, i) =>
    bytes.subarray(i * 7, i * 7 + 7),
  );
  const chunks: OfflineChunk[] = [];
  for await (const c of decodeOffline(Readable.from(pieces), {
    fluentBitServiceKey: "service",
    maxBodyBytes: 1 << 20,
    now: () => 1_000,
    ...options,
  })) {
    chunks.push(c);
  }
  const events = chunks.flatMap((c) => c.result.events);
  for (const e of events) expect(TelemetryEvent.parse(e)).toEqual(e);
  return {
    chunks,
    events,
    accepted: chunks.reduce((n, c) => n + c.result.accepted, 0),
    rejected: chunks.reduce((n, c) => n + c.result.rejected, 0),
    bytes: chunks.reduce((n, c) => n + c.bytes, 0),
  };
}

describe("decodeOffline", () => {
  it("reads an OTLP/JSON document and counts every input byte", async () => {
    const doc = fixture("otlp-traces.json");
    const out = await decode(doc, { format: "otlp-json" });
    expect(out.accepted).toBe(2);
    expect(out.chunks[0]!.signal).toBe("traces");
    expect(out.bytes).toBe(doc.length);
  });

  it("reads one OTLP request per line, any signal, and keeps going past a bad line", async () => {
    const traces = JSON.stringify(JSON.parse(fixture("otlp-traces.json").toString()));
    const logs = JSON.stringify({
      resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { stringValue: "hi" }, severityNumber: 13 }] }] }],
    });
    const out = await decode(`${traces}\n{"resourceSpans": [\n${logs}\n`, {
      format: "otlp-json",
      service: "fallback",
    });
    expect(out.chunks.map((c) => c.signal)).toEqual(["traces", "unknown", "logs"]);
    expect(out.accepted).toBe(3);
    expect(out.rejected).toBe(1);
    expect(out.chunks[1]!.result.reasons[0]).toMatch(/line 2: invalid JSON/);
    // The log's resource had no service.name: --service fills it in.
    expect(out.events.find((e) => e.kind === "log")?.service).toBe("fallback");
  });

  it("detects Fluent Bit's json, json_lines and msgpack, even msgpack holding newline bytes", async () => {
    expect((await decode(fixture("fluentbit-json.json"), { format: "fluentbit" })).accepted).toBe(3);
    const lines = await decode(fixture("fluentbit-json-lines.ndjson"), {
      format: "fluentbit",
      batchLines: 1,
    });
    expect([lines.accepted, lines.rejected, lines.chunks.length]).toEqual([2, 1, 3]);
    const time = new Uint8Array([0x67, 0x1d, 0xb4, 0x80, 0x0a, 0x0a, 0x0a, 0x0a]);
    const msgpack = Buffer.concat([
      fixture("fluentbit.msgpack"),
      Buffer.from(encode([[new ExtData(0, time), {}], { log: "two\nlines", service: "nl" }])),
    ]);
    const out = await decode(msgpack, { format: "fluentbit" });
    expect(out.accepted).toBe(5);
    expect(out.events.find((e) => e.service === "nl")).toMatchObject({ log: { body: "two\nlines" } });
    expect(out.bytes).toBe(msgpack.length);
  });

  it("turns text lines into logs with their leading timestamp and level", async () => {
    const out = await decode(
      "2024-10-27T03:33:20,123Z ERROR payment failed\n\nplain line\r\n[2024-10-27 05:33:21+02:00] warn slow\n",
      {
        format: "text",
        service: "svc",
      },
    );
    expect(out.events.map((e) => (e.kind === "log" ? [e.time, e.log.severity, e.log.body] : []))).toEqual([
      [Date.parse("2024-10-27T03:33:20.123Z"), "error", "payment failed"],
      [1_000, "info", "plain line"],
      [Date.parse("2024-10-27T03:33:21Z"), "warn", "slow"],
    ]);
  });

  it("splits the header off text lines, so lines differing only in their time share one template", async () => {
    const lines = [
      "2024-10-27T03:33:20.101Z INFO [worker-3] order 1841 shipped to warehouse 7",
      "2024-10-27T03:34:55.902Z INFO [worker-1] order 1842 shipped to warehouse 2",
    ];
    const out = await decode(`${lines.join("\n")}\n`, { format: "text", service: "svc" });
    const bodies = out.events.map((e) => (e.kind === "log" ? e.log.body : ""));
    expect(bodies.every((b) => !/2024|03:3/.test(b))).toBe(true);
    expect(bodies.map((b) => b.replace(/\d+/g, "<*>"))).toEqual([
      "order <*> shipped to warehouse <*>",
      "order <*> shipped to warehouse <*>",
    ]);
  });

  it("refuses text without a service and otlp-proto without a signal", async () => {
    await expect(decode("x\n", { format: "text" })).rejects.toThrow(/needs a service/);
    await expect(decode("x", { format: "otlp-proto" })).rejects.toThrow(/needs the signal/);
  });

  it("refuses a single document over the size limit", async () => {
    await expect(decode(`[${"1,".repeat(100)}1]`, { format: "fluentbit", maxBodyBytes: 50 })).rejects.toThrow(
      /exceeds 50 bytes|longer than 50/,
    );
  });

  it("lineTime reads RFC 3339 with offsets and treats zone-less times as UTC", () => {
    expect(lineTime("2024-01-02T03:04:05.123456789+0100 x")).toBe(Date.parse("2024-01-02T02:04:05.123Z"));
    expect(lineTime("2024-01-02 03:04:05 x")).toBe(Date.parse("2024-01-02T03:04:05Z"));
    expect(lineTime("Jan 2 03:04:05 host x")).toBeUndefined();
  });
});

describe("validateEvents", () => {
  it("passes contract-valid events and rejects the rest with the failing field", () => {
    const good = { schemaVersion: 1, kind: "log", service: "a", time: 1, attributes: {}, log: { body: "x" } };
    const bad = { ...good, service: "" };
    const out = validateEvents([good, bad]);
    expect(out.accepted).toBe(1);
    expect(out.rejected).toBe(1);
    expect(out.reasons[0]).toMatch(/service: service must not be empty/);
    expect(out.events[0]).toMatchObject({ log: { severity: "info", attributes: {} } });
  });
});

describe("the demo shop through validateEvents", () => {
  it("publishes every kind of demo event unchanged (ingest --demo)", () => {
    const shop = createDemoShop({ days: 1, end: Date.UTC(2026, 10, 23) });
    const sample: unknown[] = [];
    for (const ev of shop.all()) {
      sample.push(ev);
      if (sample.length >= 3000) break;
    }
    const out = validateEvents(sample);
    expect(out.rejected).toBe(0);
    expect(out.events).toEqual(sample);
    expect(new Set(out.events.map((e) => e.kind))).toEqual(new Set(["metric", "span", "log", "rum"]));
  });
});
