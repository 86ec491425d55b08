import type { Capsule, CapsuleEvent } from "../core/capsule.js";
import type { Severity } from "../core/telemetry.js";
import { DEFAULT_SAMPLES_PER_FINGERPRINT, offerInto } from "./reservoir.js";
import { type AddOutcome, TumblingWindows, type WindowOptions } from "./windows.js";

const zeroSeverities = (): Record<Severity, number> => ({
  trace: 0,
  debug: 0,
  info: 0,
  warn: 0,
  error: 0,
  fatal: 0,
});

export const capsuleKey = (service: string, fingerprint: string) => `${service}\u0000${fingerprint}`;

/**
 * Capsules: per (service, fingerprint) and hour window, the count, severity counts, first/last seen and a
 * uniform reservoir of at most ten (already redacted) sample lines, of what this worker added since the
 * last write; window-merge.ts adds it to the stored capsule.
 */
export class CapsuleAggregates {
  readonly windows: TumblingWindows<Capsule>;

  constructor(
    options: WindowOptions,
    private readonly random: () => number,
  ) {
    this.windows = new TumblingWindows<Capsule>(options, (key, windowStart) => {
      const [service, fingerprint] = key.split("\u0000") as [string, string];
      return {
        service,
        fingerprint,
        template: "",
        windowStart,
        count: 0,
        severityCounts: zeroSeverities(),
        firstSeen: Number.POSITIVE_INFINITY,
        lastSeen: Number.NEGATIVE_INFINITY,
        samples: [],
      };
    });
  }

  apply(ev: CapsuleEvent): AddOutcome {
    return this.windows.add(
      capsuleKey(ev.service, ev.fingerprint),
      ev.time,
      (c) => {
        c.template = ev.template;
        c.count++;
        c.severityCounts[ev.severity] = (c.severityCounts[ev.severity] ?? 0) + 1;
        if (ev.time < c.firstSeen) c.firstSeen = ev.time;
        if (ev.time > c.lastSeen) c.lastSeen = ev.time;
        offerInto(c.samples, c.count, ev.sample, DEFAULT_SAMPLES_PER_FINGERPRINT, this.random);
      },
      ev.service,
    );
  }
}
