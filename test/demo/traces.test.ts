import { describe, expect, it } from "vitest";
import { createDemoShop } from "../../src/demo/index.js";
import type { SpanEvent } from "./helpers.js";

const shop = createDemoShop({ seed: 21, days: 2 });
const spans = [...shop.traces()] as SpanEvent[];
const bySpanId = new Map(spans.map((s) => [s.span.spanId, s]));
const children = new Map<string, SpanEvent[]>();
for (const s of spans) {
  if (!s.span.parentSpanId) continue;
  const list = children.get(s.span.parentSpanId) ?? [];
  list.push(s);
  children.set(s.span.parentSpanId, list);
}

describe("demo traces", () => {
  it("contains every topology edge", () => {
    const missing = shop.topology.edges.filter((e) => {
      return !spans.some((s) => {
        const sp = s.span;
        switch (e.protocol) {
          case "postgresql":
            return (
              s.service === e.from &&
              sp.kind === "client" &&
              sp.attributes["db.system"] === "postgresql" &&
              sp.name === e.operation
            );
          case "kafka":
            if (e.from === "kafka") {
              return (
                s.service === e.to &&
                sp.kind === "consumer" &&
                bySpanId.get(sp.parentSpanId ?? "")?.span.kind === "producer"
              );
            }
            return (
              s.service === e.from &&
              sp.kind === "producer" &&
              sp.attributes["messaging.destination.name"] === "order-events"
            );
          case "https":
            return (
              s.service === e.from &&
              sp.kind === "client" &&
              sp.attributes["server.address"] === "api.psp.example"
            );
          default:
            return (
              s.service === e.from &&
              sp.kind === "client" &&
              (children.get(sp.spanId) ?? []).some((c) => c.service === e.to && c.span.kind === "server")
            );
        }
      });
    });
    expect(missing).toEqual([]);
  });

  it("follows OTel semantic conventions on server, client, rpc, db and messaging spans", () => {
    const server = spans.find((s) => s.service === "checkout" && s.span.kind === "server")!;
    expect(server.span.attributes).toMatchObject({
      "http.request.method": "POST",
      "http.route": "/checkout",
      "url.path": "/checkout",
    });
    expect(server.span.name).toBe("POST /checkout");
    const rpc = spans.find((s) => s.service === "cart" && s.span.kind === "server")!;
    expect(rpc.span.attributes).toMatchObject({
      "rpc.system": "grpc",
      "rpc.service": "oteldemo.CartService",
    });
    const db = spans.find((s) => s.span.attributes["db.system"] === "postgresql")!;
    expect(db.span.kind).toBe("client");
    expect(db.span.attributes["db.query.text"]).toBeTypeOf("string");
    const consumer = spans.find((s) => s.span.kind === "consumer")!;
    expect(consumer.service).toBe("fulfillment");
    expect(consumer.span.attributes).toMatchObject({
      "messaging.destination.name": "order-events",
      "messaging.operation.type": "process",
    });
    const browser = spans.find((s) => s.service === "web-browser")!;
    expect(browser.span.kind).toBe("client");
    expect(browser.span.parentSpanId).toBeUndefined();
    expect(String(browser.span.attributes["user_agent.original"])).toMatch(/Mozilla/);
    for (const s of spans) {
      if (s.span.kind === "server" && s.span.attributes["http.response.status_code"] !== undefined) {
        const code = Number(s.span.attributes["http.response.status_code"]);
        // Server spans: only 5xx is an error; 4xx stays unset.
        expect(s.span.status).toBe(code >= 500 ? "error" : "unset");
      }
      expect(s.span.endTime).toBeGreaterThanOrEqual(s.span.startTime);
    }
  });

  it("has partial traces whose parent span was never exported", () => {
    const orphans = spans.filter((s) => s.span.parentSpanId && !bySpanId.has(s.span.parentSpanId));
    const services = new Set(orphans.map((s) => s.service));
    // Browser roots lost (frontend orphans) and api-gateway spans lost (its callees orphaned).
    expect(services.has("frontend")).toBe(true);
    expect([...services].some((s) => ["checkout", "inventory", "cart"].includes(s))).toBe(true);
    expect(orphans.length).toBeLessThan(spans.length * 0.02);
  });

  it("has a high-cardinality raw path on inventory, with no http.route", () => {
    const raw = spans.filter(
      (s) =>
        s.service === "inventory" &&
        s.span.kind === "server" &&
        s.span.attributes["http.route"] === undefined,
    );
    expect(raw.length).toBeGreaterThan(20);
    for (const s of raw) {
      expect(s.span.name).toBe("GET");
      expect(String(s.span.attributes["url.path"])).toMatch(/^\/products\/\d+$/);
    }
    expect(new Set(raw.map((s) => s.span.attributes["url.path"])).size).toBeGreaterThan(raw.length * 0.9);
  });

  it("covers every entry journey, and mobile requests start at the gateway", () => {
    const roots = spans.filter((s) => !s.span.parentSpanId);
    expect(new Set(roots.map((s) => s.service))).toEqual(new Set(["web-browser", "api-gateway"]));
    const gatewayRoots = roots.filter((s) => s.service === "api-gateway");
    expect(new Set(gatewayRoots.map((s) => s.span.name))).toEqual(
      new Set(["GET /api/products/{id}", "POST /api/cart/items", "POST /api/checkout"]),
    );
    for (const s of gatewayRoots)
      expect(String(s.span.attributes["user_agent.original"])).toMatch(/^ShopApp\//);
  });

  it("records failures with exception events, and during the payment incident they end at the PSP", () => {
    // A week (so the outage is intense) sampled densely, read for just the incident hours.
    const dense = createDemoShop({ seed: 21, days: 7, tracesPerJourneyPerHour: 40 });
    const inc = dense.truth.incidents.find((i) => i.id === "payment-psp-outage")!;
    const during = [...dense.traces({ from: inc.start, to: inc.end })] as SpanEvent[];
    const pspFailures = during.filter(
      (s) =>
        s.service === "payment" &&
        s.span.kind === "server" &&
        s.span.status === "error" &&
        s.span.events.some(
          (e) => e.name === "exception" && e.attributes["exception.type"] === "PaymentProviderError",
        ),
    );
    expect(pspFailures.length).toBeGreaterThan(3);
    for (const p of pspFailures) {
      expect(p.time).toBeGreaterThan(inc.start);
      expect(p.time).toBeLessThan(inc.end + 60_000);
      const psp = during.filter(
        (s) =>
          s.span.parentSpanId === p.span.spanId &&
          s.span.attributes["server.address"] === "api.psp.example" &&
          s.span.attributes["http.response.status_code"] === 503,
      ).length;
      expect(psp).toBeGreaterThan(0);
    }
    const checkoutErrors = during.filter(
      (s) => s.service === "checkout" && s.span.kind === "server" && s.span.status === "error",
    );
    expect(
      checkoutErrors.some((s) =>
        s.span.events.some((e) => e.attributes["exception.type"] === "*checkout.PaymentError"),
      ),
    ).toBe(true);
    const allErrors = spans.filter((s) => s.span.status === "error" && s.span.kind === "server");
    for (const s of allErrors.filter((x) => x.span.events.length > 0)) {
      const ev = s.span.events[0]!;
      expect(ev.name).toBe("exception");
      expect(ev.attributes["exception.type"]).toBeTypeOf("string");
      expect(ev.attributes["exception.message"]).toBeTypeOf("string");
    }
  });

  it("head-samples with the rate it reports in the truth", () => {
    const ratio = shop.truth.traceSampling["browser GET /"]!;
    const entries = spans.filter(
      (s) => s.service === "web-browser" && s.span.attributes["page.route"] === "/",
    ).length;
    const total = shop.truth.journeys["frontend GET /"]!.total;
    // Roughly 4% of browser roots are dropped (partial traces).
    expect(entries / (total * ratio)).toBeGreaterThan(0.85);
    expect(entries / (total * ratio)).toBeLessThan(1.1);
  });
});
