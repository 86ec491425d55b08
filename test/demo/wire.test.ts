import { isDeepStrictEqual } from "node:util";
import { describe, expect, it } from "vitest";
import { createDemoShop } from "../../src/demo/index.js";
import { decodeTelemetryEvent, encodeTelemetryEvent } from "../../src/pipeline/bus/avro.js";

describe("demo events on the Kafka wire format", () => {
  it("round-trip through the TelemetryEvent Avro schema unchanged", () => {
    const shop = createDemoShop({
      seed: 9,
      days: 1,
      stepSeconds: 900,
      tracesPerJourneyPerHour: 1,
      logsPerServicePerHour: 2,
      metricChunkSeconds: 86_400,
    });
    const kinds = new Set<string>();
    const changed: string[] = [];
    for (const ev of shop.all()) {
      kinds.add(ev.kind);
      const back = decodeTelemetryEvent(encodeTelemetryEvent(ev));
      if (!isDeepStrictEqual(back, ev)) changed.push(JSON.stringify(ev).slice(0, 200));
    }
    expect(changed).toEqual([]);
    expect(kinds.size).toBe(4);
  });
});
