import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { TelemetryEvent } from "../../src/core/telemetry.js";
import { alignedNow, createDemoShop, DEMO_DEFAULT_END } from "../../src/demo/index.js";

function hashOf(events: Iterable<TelemetryEvent>, limit = Number.POSITIVE_INFINITY): string {
  const h = createHash("sha256");
  let n = 0;
  for (const ev of events) {
    h.update(JSON.stringify(ev));
    if (++n >= limit) break;
  }
  return h.digest("hex");
}

describe("demo shop: determinism", () => {
  it("gives byte-identical output for the same seed and different output for another seed", () => {
    const small = { days: 1, stepSeconds: 900, tracesPerJourneyPerHour: 2, logsPerServicePerHour: 5 };
    const a = createDemoShop({ seed: 7, ...small });
    const b = createDemoShop({ seed: 7, ...small });
    const c = createDemoShop({ seed: 8, ...small });
    const ha = hashOf(a.all());
    expect(hashOf(b.all())).toBe(ha);
    expect(hashOf(c.all())).not.toBe(ha);
    expect(JSON.stringify(b.truth)).toBe(JSON.stringify(a.truth));
    expect(c.truth.journeys["checkout POST /checkout"]!.total).not.toBe(
      a.truth.journeys["checkout POST /checkout"]!.total,
    );
  });

  it("replays each signal identically when iterated twice", () => {
    const shop = createDemoShop({ seed: 3, days: 1, stepSeconds: 900 });
    expect(hashOf(shop.metrics())).toBe(hashOf(shop.metrics()));
    expect(hashOf(shop.traces())).toBe(hashOf(shop.traces()));
    expect(hashOf(shop.logs())).toBe(hashOf(shop.logs()));
  });
});

describe("demo shop: shape", () => {
  const shop = createDemoShop({ seed: 11, days: 1, stepSeconds: 600 });
  const seen = { metric: 0, span: 0, log: 0, rum: 0, samples: 0 };
  const problems: string[] = [];
  let last = 0;
  for (const ev of shop.all()) {
    const parsed = TelemetryEvent.safeParse(ev);
    if (!parsed.success) problems.push(`${ev.kind} event invalid: ${parsed.error.message}`);
    if (ev.time < last) problems.push(`${ev.kind} event at ${ev.time} after one at ${last}`);
    if (ev.attributes["service.name"] !== ev.service)
      problems.push(`${ev.kind} event of ${ev.service} names another service`);
    last = ev.time;
    seen[ev.kind]++;
    if (ev.kind === "metric") seen.samples += ev.metric.samples.length;
  }

  it("emits only valid TelemetryEvents, in time order, of every kind", () => {
    expect(problems.slice(0, 5)).toEqual([]);
    for (const kind of ["metric", "span", "log", "rum"] as const) expect(seen[kind], kind).toBeGreaterThan(0);
  });

  it("counts match the estimate: metrics exactly, sampled signals roughly", () => {
    const est = shop.counts();
    expect(seen.metric).toBe(est.metricEvents);
    expect(seen.samples).toBe(est.metricSamples);
    for (const [got, want] of [
      [seen.span, est.spans],
      [seen.log, est.logs],
      [seen.rum, est.rum],
    ] as const) {
      expect(got).toBeGreaterThan(want * 0.8);
      expect(got).toBeLessThan(want * 1.2);
    }
  });
});

describe("demo shop: options", () => {
  it("rejects an end that is not on a whole hour, naming the option and an example", () => {
    expect(() => createDemoShop({ end: DEMO_DEFAULT_END + 1 })).toThrow(
      /end must be epoch milliseconds on a whole hour, e\.g\./,
    );
  });
  it("rejects a step that does not divide an hour", () => {
    expect(() => createDemoShop({ stepSeconds: 420 })).toThrow(/stepSeconds must divide an hour/);
  });
  it("rejects zero days and negative sampling", () => {
    expect(() => createDemoShop({ days: 0 })).toThrow(/days must be an integer/);
    expect(() => createDemoShop({ tracesPerJourneyPerHour: -1 })).toThrow(/tracesPerJourneyPerHour/);
  });
  it("accepts an end aligned to the current hour and covers exactly `days` before it", () => {
    const end = alignedNow(Date.UTC(2027, 0, 5, 13, 42));
    const shop = createDemoShop({ end, days: 1, stepSeconds: 900 });
    expect(shop.truth.end).toBe(Date.UTC(2027, 0, 5, 13));
    expect(shop.truth.start).toBe(Date.UTC(2027, 0, 4, 13));
  });
});
