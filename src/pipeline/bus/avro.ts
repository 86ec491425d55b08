import { readFileSync } from "node:fs";
import avro from "avsc";
import { CapsuleEvent } from "../../core/capsule.js";
import { TelemetryEvent } from "../../core/telemetry.js";
import { TOPICS } from "./bus.js";

/**
 * The Kafka wire format: the contracts encoded with the Avro schemas in `schemas/`. Decoding validates
 * with the zod contract too, so a consumer never sees a value its types do not describe.
 */

function loadType(name: string): avro.Type {
  const schema = JSON.parse(readFileSync(new URL(`../../../schemas/${name}.avsc`, import.meta.url), "utf8"));
  // Unwrapped unions: ["null", record] and ["string","double","boolean"] are unambiguous, so values keep
  // the same shape as the zod contracts instead of `{ string: "x" }` wrappers.
  return avro.Type.forSchema(schema, { wrapUnions: false });
}

export const telemetryEventType = loadType("TelemetryEvent");
export const capsuleEventType = loadType("CapsuleEvent");

/** Avro has no "absent": optional fields decode as null, which the zod contracts spell as a missing key. */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (value !== null && typeof value === "object" && !Buffer.isBuffer(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (v !== null) out[k] = withoutNulls(v);
    }
    return out;
  }
  return value;
}

function encodeWith(type: avro.Type, name: string, value: unknown): Buffer {
  const problems: string[] = [];
  if (!type.isValid(value, { errorHook: (path) => problems.push(path.join(".") || "(root)") })) {
    throw new TypeError(`${name} does not match its Avro schema at ${problems.join(", ")}`);
  }
  return type.toBuffer(value);
}

export function encodeTelemetryEvent(event: TelemetryEvent): Buffer {
  return encodeWith(telemetryEventType, "TelemetryEvent", event);
}

export function decodeTelemetryEvent(buf: Buffer): TelemetryEvent {
  return TelemetryEvent.parse(withoutNulls(telemetryEventType.fromBuffer(buf)));
}

export function encodeCapsuleEvent(event: CapsuleEvent): Buffer {
  return encodeWith(capsuleEventType, "CapsuleEvent", event);
}

export function decodeCapsuleEvent(buf: Buffer): CapsuleEvent {
  return CapsuleEvent.parse(withoutNulls(capsuleEventType.fromBuffer(buf)));
}

export interface Codec {
  /** The `content-type` header written next to each message so a reader knows the format. */
  readonly contentType: string;
  encode(value: unknown): Buffer;
  decode(buf: Buffer): unknown;
}

const json: Codec = {
  contentType: "application/json",
  encode: (value) => Buffer.from(JSON.stringify(value)),
  decode: (buf) => JSON.parse(buf.toString("utf8")),
};

const codecs: Record<string, Codec> = {
  [TOPICS.rawTelemetry]: {
    contentType: "avro/binary; schema=io.sloscout.v1.TelemetryEvent",
    encode: (v) => encodeTelemetryEvent(v as TelemetryEvent),
    decode: decodeTelemetryEvent,
  },
  [TOPICS.capsuleEvents]: {
    contentType: "avro/binary; schema=io.sloscout.v1.CapsuleEvent",
    encode: (v) => encodeCapsuleEvent(v as CapsuleEvent),
    decode: decodeCapsuleEvent,
  },
};

/** Avro for the two contract topics; JSON for any other topic (there is no schema to hold it to). */
export function codecFor(topic: string): Codec {
  return codecs[topic] ?? json;
}
