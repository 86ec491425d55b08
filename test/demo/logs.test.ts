import { describe, expect, it } from "vitest";
import type { TelemetryEvent } from "../../src/core/telemetry.js";
import { createDemoShop, luhnValid, PROMPT_INJECTION } from "../../src/demo/index.js";

type LogEvent = Extract<TelemetryEvent, { kind: "log" }>;
type RumEvent = Extract<TelemetryEvent, { kind: "rum" }>;

const shop = createDemoShop({ seed: 13, days: 2 });
const logs = [...shop.logs()] as LogEvent[];
const spans = [...shop.traces()];
const text = (e: LogEvent) => `${e.log.body} ${Object.values(e.log.attributes).join(" ")}`;
const allText = logs.map(text).join("\n");

/** Generic detectors, independent of the generator, to check the planted list is complete. */
const DETECTORS: Record<string, RegExp> = {
  email: /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g,
  card: /(?<![+\d])\b(?:\d[ -]?){13,19}\b/g,
  stripe: /sk_live_[A-Za-z0-9]+/g,
  github: /ghp_[A-Za-z0-9]{36}/g,
  aws: /AKIA[A-Z0-9]{16}/g,
  jwt: /eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/g,
};

describe("demo logs: planted PII", () => {
  it("plants every kind of PII the redactor must catch", () => {
    const found = new Set(shop.findPlantedPii(allText).map((p) => p.kind));
    for (const kind of [
      "email",
      "ipv4",
      "ipv6",
      "phone",
      "card",
      "jwt",
      "bearer",
      "stripe_key",
      "github_token",
      "aws_access_key",
      "aws_secret",
    ]) {
      expect(found, kind).toContain(kind);
    }
  });

  it("lists every secret-looking string that appears (the export is complete)", () => {
    for (const [name, re] of Object.entries(DETECTORS)) {
      for (const m of allText.matchAll(re)) {
        const s = m[0].trim();
        if (name === "card" && !luhnValid(s)) continue;
        // The email detector also matches inside git URLs with a token; those tokens are listed on their own.
        if (name === "email" && s.includes("github.com")) continue;
        expect(shop.isPlantedPii(s), `${name}: ${s}`).toBe(true);
      }
    }
  });

  it("plants Luhn-valid card numbers, in the formats people type", () => {
    const cards = shop.truth.pii.filter((p) => p.kind === "card");
    expect(cards.length).toBeGreaterThan(10);
    for (const c of cards) expect(luhnValid(c.value), c.value).toBe(true);
    expect(cards.some((c) => c.value.includes(" "))).toBe(true);
    expect(cards.some((c) => /^\d+$/.test(c.value))).toBe(true);
    expect(luhnValid("4111 1111 1111 1112")).toBe(false);
  });

  it("also puts client IPs in span attributes, as piiLocations says", () => {
    let ips = 0;
    for (const s of spans) {
      if (s.kind === "span" && typeof s.span.attributes["client.address"] === "string") {
        expect(shop.isPlantedPii(s.span.attributes["client.address"])).toBe(true);
        ips++;
      }
    }
    expect(ips).toBeGreaterThan(100);
    expect(shop.truth.piiLocations.some((l) => l.includes("client.address"))).toBe(true);
  });
});

describe("demo logs: content", () => {
  it("mixes severities and formats per service, JSON bodies on the gateway", () => {
    const services = new Set(logs.map((l) => l.service));
    expect(services).toEqual(
      new Set([
        "frontend",
        "api-gateway",
        "checkout",
        "payment",
        "inventory",
        "cart",
        "fulfillment",
        "notification",
      ]),
    );
    expect(new Set(logs.map((l) => l.log.severity))).toEqual(new Set(["debug", "info", "warn", "error"]));
    const gw = logs.filter((l) => l.service === "api-gateway");
    for (const l of gw) expect(() => JSON.parse(l.log.body)).not.toThrow();
  });

  it("writes more error lines during the payment incident, linked to sampled traces", () => {
    const inc = shop.truth.incidents.find((i) => i.id === "payment-psp-outage")!;
    const errorsPerHour = (from: number, to: number) =>
      (logs.filter(
        (l) => l.service === "payment" && l.log.severity === "error" && l.time > from && l.time <= to,
      ).length /
        (to - from)) *
      3_600_000;
    const inside = errorsPerHour(inc.start, inc.end);
    const outside = errorsPerHour(shop.truth.start, inc.start);
    expect(inside).toBeGreaterThan(5 * outside);
    expect(logs.some((l) => l.log.body.startsWith("PSP request failed: 503"))).toBe(true);
    const correlated = logs.filter((l) => l.log.traceId);
    expect(correlated.length).toBeGreaterThan(0);
    const traceIds = new Set(spans.map((s) => (s.kind === "span" ? s.span.traceId : "")));
    for (const l of correlated) expect(traceIds.has(l.log.traceId!)).toBe(true);
  });

  it("writes one error line per 5xx answered by a service with metrics", () => {
    const payment = shop.truth.journeys["payment POST /v1/charges"]!;
    const lines = logs.filter((l) => l.service === "payment" && l.log.severity === "error").length;
    expect(lines).toBe(payment.serverErrors);
  });

  it("contains the prompt-injection line once a day, in checkout", () => {
    const hits = logs.filter((l) => l.log.body.includes(PROMPT_INJECTION));
    expect(hits.length).toBe(2);
    expect(hits.every((h) => h.service === shop.truth.promptInjection.service)).toBe(true);
    expect(shop.truth.promptInjection.text).toMatch(/ignore previous instructions/);
  });

  it("logs the inventory restart and slow queries while inventory is slow", () => {
    const reset = shop.truth.counterResets[0]!;
    expect(
      logs.some(
        (l) =>
          l.service === "inventory" &&
          l.log.body.includes("Started InventoryApplication") &&
          l.time > reset.time,
      ),
    ).toBe(true);
    const slow = shop.truth.incidents.find((i) => i.id === "inventory-slow-reserve")!;
    const slowLines = logs.filter((l) => l.log.body.includes("Slow query"));
    expect(slowLines.length).toBeGreaterThan(10);
    for (const l of slowLines) {
      expect(l.time).toBeGreaterThan(slow.start);
      expect(l.time).toBeLessThanOrEqual(slow.end);
    }
  });
});

describe("demo RUM", () => {
  const rum = [...shop.rum()] as RumEvent[];
  it("reports web vitals per page load, Faro-like", () => {
    const pages = new Set<string>();
    for (const e of rum.filter((r) => r.rum.type === "measurement")) {
      pages.add(e.rum.page!);
      const v = e.rum.values;
      expect(Object.keys(v).sort()).toEqual(["cls", "fcp", "inp", "lcp", "ttfb"]);
      expect(v.lcp!).toBeGreaterThanOrEqual(v.fcp!);
      expect(v.fcp!).toBeGreaterThan(v.ttfb!);
      expect(v.cls!).toBeGreaterThanOrEqual(0);
      expect(v.cls!).toBeLessThanOrEqual(1);
    }
    expect(pages).toEqual(new Set(["/", "/products/{id}", "/cart", "/checkout"]));
  });

  it("includes JavaScript exceptions, more of them on the checkout page during the incident", () => {
    const ex = rum.filter((r) => r.rum.type === "exception");
    expect(ex.length).toBeGreaterThan(0);
    for (const e of ex) expect(e.rum.message).toBeTruthy();
    expect(ex.some((e) => e.rum.message === "Checkout failed: 503 Service Unavailable")).toBe(true);
  });
});
