/**
 * Browser RUM (`kind:"rum"`), Faro-like: one `measurement` named "web-vitals" per sampled page load with
 * lcp, fcp, ttfb, inp (ms) and cls (unitless), and `exception` events. Server-rendered pages' TTFB follows
 * the frontend route's latency for that step; the checkout page throws more while checkout fails.
 */

import type { TelemetryEvent } from "../core/telemetry.js";
import { BROWSER_AGENTS, BROWSER_INFO } from "./catalog.js";
import type { DemoContext } from "./context.js";
import { totalErrors } from "./plan.js";
import { rngFor } from "./rng.js";
import { HOUR_MS, stepAt, trafficShape } from "./timeline.js";
import { SHOP_HOST, WEB_PAGES } from "./topology.js";

const round1 = (x: number) => Math.round(x * 10) / 10;

const JS_ERRORS = [
  { name: "TypeError", message: "Cannot read properties of undefined (reading 'price')" },
  {
    name: "ChunkLoadError",
    message: "Loading chunk 734 failed. (timeout: https://shop.example.com/_next/static/chunks/734.js)",
  },
  { name: "TypeError", message: "NetworkError when attempting to fetch resource." },
] as const;

export function rumForHour(ctx: DemoContext, h: number): TelemetryEvent[] {
  const { plan, pool, options } = ctx;
  const tl = plan.timeline;
  const hourStart = ctx.hourStart(h);
  const load = trafficShape(hourStart + HOUR_MS / 2);
  const out: TelemetryEvent[] = [];
  const checkoutOp = plan.byKey.get("frontend POST /api/checkout")!;
  WEB_PAGES.forEach((page, pi) => {
    const r = rngFor(plan.seed, "rum", h, pi);
    const k = Math.floor(options.rumPageLoadsPerPagePerHour * page.weight * load + r.next());
    for (let x = 0; x < k; x++) {
      const time = hourStart + 1 + Math.floor(r.next() * (HOUR_MS - 2));
      const step = stepAt(tl, time);
      const lat = ctx.latency(step);
      const b = r.int(0, BROWSER_AGENTS.length);
      const info = BROWSER_INFO[b]!;
      const sessionId = r.hex(16);
      const server = page.frontendOp
        ? r.lognormal(lat.okMs[plan.byKey.get(page.frontendOp)!.index]!, 0.45)
        : r.lognormal(12, 0.4);
      const network = r.lognormal(info.mobile ? 140 : 60, 0.5);
      const ttfb = network + server;
      const fcp = ttfb + r.lognormal(info.mobile ? 700 : 420, 0.35);
      const lcp = fcp + r.lognormal(page.page === "/products/{id}" ? 650 : 300, 0.6);
      const inp = r.lognormal(page.page === "/checkout" ? 170 : 110, 0.55);
      const cls = Math.min(
        1,
        Math.round(r.lognormal(page.page === "/products/{id}" ? 0.06 : 0.02, 1) * 1e4) / 1e4,
      );
      const url = `https://${SHOP_HOST}${page.page.replace("{id}", String(r.int(1000, 99999)))}`;
      const attributes = Object.assign(ctx.resource("web-browser", time), {
        "app.name": "shop-web",
        "browser.name": info.name,
        "browser.version": info.version,
        "browser.os": info.os,
        "browser.mobile": info.mobile,
        "user_agent.original": BROWSER_AGENTS[b]!,
        "page.url": url,
      });
      out.push({
        schemaVersion: 1,
        kind: "rum",
        service: "web-browser",
        time,
        attributes,
        rum: {
          type: "measurement",
          page: page.page,
          name: "web-vitals",
          values: { lcp: round1(lcp), fcp: round1(fcp), ttfb: round1(ttfb), inp: round1(inp), cls },
          sessionId,
        },
      });
      let pError = 0.003;
      if (page.page === "/checkout") {
        const n = checkoutOp.n[step]!;
        pError += n > 0 ? (0.8 * totalErrors(checkoutOp, step)) / n : 0;
      }
      if (r.chance(pError)) {
        const checkoutFailure = page.page === "/checkout" && r.chance(0.8);
        const c = r.pick(pool.customers);
        const err = checkoutFailure
          ? { name: "Error", message: "Checkout failed: 503 Service Unavailable" }
          : r.chance(0.15)
            ? { name: "ValidationError", message: `invalid phone number "${c.phone}" for ${c.email}` }
            : r.pick(JS_ERRORS);
        out.push({
          schemaVersion: 1,
          kind: "rum",
          service: "web-browser",
          time: time + Math.round(lcp),
          attributes,
          rum: {
            type: "exception",
            page: page.page,
            name: err.name,
            message: err.message,
            values: {},
            sessionId,
          },
        });
      }
    }
  });
  return out;
}
