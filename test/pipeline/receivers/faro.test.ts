import { readFileSync } from "node:fs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { TelemetryEvent } from "../../../src/core/telemetry.js";
import { bodyOf, type Harness, startHarness } from "./harness.js";

/** Grafana Faro's transport body → RUM events (and browser spans), answered 202 as Faro's receiver does. */

const fixture = readFileSync(new URL("../../fixtures/receivers/faro.json", import.meta.url));

describe("Faro receiver", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ CORS_ORIGINS: "https://shop.example" });
  });
  afterAll(() => h.close());
  afterEach(() => {
    h.received.length = 0;
  });
  const send = (
    body: Buffer | string,
    headers: Record<string, string> = { "content-type": "application/json" },
  ) => fetch(`${h.url}/ingest/rum`, { method: "POST", body: bodyOf(body), headers });

  it("answers 202 and turns every item into an event for the Faro app's service", async () => {
    const res = await send(fixture, { "content-type": "application/json", origin: "https://shop.example" });
    expect(res.status).toBe(202);
    expect(await res.text()).toBe("ok");
    expect(res.headers.get("access-control-allow-origin")).toBe("https://shop.example");
    await h.settle();
    for (const ev of h.received) expect(TelemetryEvent.parse(ev)).toEqual(ev);
    expect(h.received.every((e) => e.service === "shop-web")).toBe(true);
    const rum = h.received.flatMap((e) => (e.kind === "rum" ? [e] : []));
    const ofType = (t: string) => rum.filter((e) => e.rum.type === t);

    expect(ofType("measurement").map((e) => e.rum.values)).toEqual(
      expect.arrayContaining([{ lcp: 2310.5 }, { cls: 0.02, inp: 184 }]),
    );
    const lcp = ofType("measurement").find((e) => e.rum.values.lcp !== undefined)!;
    expect(lcp).toMatchObject({
      time: Date.parse("2024-10-27T03:33:17.680Z"),
      attributes: { "app.version": "1.4.2", "app.environment": "production", "browser.name": "chrome" },
      rum: { name: "web-vitals", page: "https://shop.example/checkout", sessionId: "s-8f2c" },
    });
    expect(ofType("exception")[0]?.rum).toMatchObject({
      name: "TypeError",
      message: "Cannot read properties of undefined (reading 'total')",
    });
    expect(ofType("log")[0]?.rum).toMatchObject({
      name: "info",
      message: "payment form rendered",
      traceId: "5b8efff798038103d269b633813fc60c",
    });
    expect(ofType("event")[0]).toMatchObject({
      rum: { name: "click_pay" },
      attributes: { "event.domain": "frontend", "event.step": "payment", "event.amount": "42.00" },
    });
    // The user's identity in meta.user is not copied anywhere.
    expect(JSON.stringify(h.received)).not.toMatch(/jane|u-123/);

    const spans = h.received.flatMap((e) => (e.kind === "span" ? [e] : []));
    expect(spans).toHaveLength(1);
    expect(spans[0]).toMatchObject({
      service: "shop-web",
      span: { name: "HTTP POST", kind: "client", spanId: "a1b2c3d4e5f60718" },
    });
  });

  it.each([
    ["invalid JSON", "{", 400, /invalid JSON/],
    [
      "a body without meta.app.name",
      JSON.stringify({ meta: {}, logs: [{ message: "x", level: "info" }] }),
      400,
      /meta.app.name is missing/,
    ],
    [
      "logs that are not an array",
      JSON.stringify({ meta: { app: { name: "a" } }, logs: {} }),
      400,
      /logs must be an array/,
    ],
    [
      "an invalid timestamp",
      JSON.stringify({ meta: { app: { name: "a" } }, logs: [{ message: "x", timestamp: "soon" }] }),
      400,
      /invalid timestamp/,
    ],
  ] as const)("refuses %s", async (_name, body, status, reason) => {
    const res = await send(body);
    expect(res.status).toBe(status);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(reason);
  });

  it("refuses a non-JSON content type with 415", async () => {
    const res = await send("x", { "content-type": "application/xml" });
    expect(res.status).toBe(415);
  });
});
