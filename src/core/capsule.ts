import { z } from "zod";
import { Severity } from "./telemetry.js";

/** One fingerprinted occurrence, after redaction. */
export const CapsuleEvent = z.object({
  fingerprint: z.string().regex(/^[0-9a-f]{64}$/, "fingerprint is a sha256 hex digest"),
  template: z.string(),
  service: z.string().min(1),
  severity: Severity,
  time: z.number().nonnegative(),
  sample: z.string(),
});
export type CapsuleEvent = z.infer<typeof CapsuleEvent>;

export const SeverityCounts = z.record(Severity, z.number().int().nonnegative());

/** A fingerprint's aggregate in one window (1h tumbling). */
export const Capsule = z.object({
  id: z.string().optional(),
  fingerprint: z.string(),
  template: z.string(),
  service: z.string(),
  windowStart: z.number(),
  count: z.number().int().nonnegative(),
  severityCounts: SeverityCounts,
  firstSeen: z.number(),
  lastSeen: z.number(),
  samples: z.array(z.string()).max(10),
  blobRef: z.string().optional(),
  embedding: z.array(z.number()).optional(),
});
export type Capsule = z.infer<typeof Capsule>;
