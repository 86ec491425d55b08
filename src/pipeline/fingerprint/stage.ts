import type { CapsuleEvent } from "../../core/capsule.js";
import type { Severity, TelemetryEvent } from "../../core/telemetry.js";
import { createRedactor, type Redactor } from "../redact.js";
import { Fingerprinter } from "./fingerprinter.js";
import { fingerprintMessage } from "./message.js";

/**
 * The fingerprint stage for the pipeline: a telemetry event in, a `CapsuleEvent` out (or undefined for
 * events that are not fingerprinted: metrics, successful spans, RUM measurements). The message is
 * redacted before it is mined, so neither the template nor the sample can carry PII.
 */

export interface FingerprintStageOptions {
  redactor?: Redactor;
  /** Pass a restored Fingerprinter (`Fingerprinter.fromJSON`) to continue after a restart. */
  fingerprinter?: Fingerprinter;
}

export interface FingerprintStage {
  (event: TelemetryEvent): (CapsuleEvent & { aliases: string[] }) | undefined;
  readonly fingerprinter: Fingerprinter;
}

function severityOf(event: TelemetryEvent): Severity {
  if (event.kind === "log") return event.log.severity;
  if (event.kind === "rum" && event.rum.type === "log") return "info";
  return "error";
}

export function createFingerprintStage(options: FingerprintStageOptions = {}): FingerprintStage {
  const redact = options.redactor ?? createRedactor();
  const fingerprinter = options.fingerprinter ?? new Fingerprinter();
  const stage = (event: TelemetryEvent) => {
    const message = fingerprintMessage(event);
    if (message === undefined || message.trim() === "") return undefined;
    const sample = redact(message);
    const r = fingerprinter.process(event.service, sample);
    return {
      fingerprint: r.fingerprint,
      template: r.template,
      service: event.service,
      severity: severityOf(event),
      time: event.time,
      sample,
      aliases: r.aliases,
    };
  };
  return Object.assign(stage, { fingerprinter });
}
