import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AnalysisResult, analyzeService } from "../../src/analysis/analyze.js";
import type { DemoShop } from "../../src/demo/index.js";
import { renderWindow } from "../../src/generators/recording-rules.js";
import { promqlErrors } from "../../src/generators/validate/promql.js";
import { migrate } from "../../src/store/migrate.js";
import type { Sql } from "../../src/store/ports.js";
import { getCapsule } from "../../src/store/repos/capsules.js";
import { openPglite } from "../../src/store/sql/pglite.js";
import { SMALL_DEMO_STEP_SECONDS, storeSmallDemo } from "../helpers/demo-store.js";

/**
 * The Done-when on a small demo shop (8 days, coarse samples, few traces so it runs in seconds):
 * the demo's telemetry goes through the stream stage into the store, then `analyze checkout` must find
 * the checkout journeys, propose SLIs whose PromQL gives the attainment the generator was told to
 * produce, and name the payment outage as the top budget consumer.
 */

const STEP_SECONDS = SMALL_DEMO_STEP_SECONDS;
let sql: Sql;
let dir: string;
let shop: DemoShop;
let result: AnalysisResult;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "slo-scout-analyze-demo-"));
  sql = await openPglite("pglite://memory");
  await migrate(sql);
  shop = await storeSmallDemo(sql, dir);
  result = await analyzeService("checkout", { sql }, { stepMs: STEP_SECONDS * 1000 });
}, 900_000);

afterAll(async () => {
  await sql?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("analyze checkout on the demo shop", () => {
  it("finds the checkout journeys through api-gateway → checkout → payment/inventory/cart", () => {
    const keys = result.journeys.map((j) => j.key);
    expect(keys).toEqual(
      expect.arrayContaining([
        "checkout POST /checkout",
        "api-gateway POST /api/checkout",
        "frontend POST /api/checkout",
      ]),
    );
    const viaGateway = result.journeys.find((j) => j.key === "api-gateway POST /api/checkout")!;
    const hops = new Set(viaGateway.downstream.map((e) => `${e.from}->${e.to}`));
    for (const hop of [
      "api-gateway->checkout",
      "checkout->payment",
      "checkout->inventory",
      "checkout->cart",
    ]) {
      expect(hops).toContain(hop);
    }
  });

  it("proposes availability and latency SLIs whose PromQL parses and measures what the generator produced", () => {
    const checked: string[] = [];
    for (const p of result.proposals) {
      for (const q of Object.values(p.sli.promql))
        expect(promqlErrors(renderWindow(q!, 300_000))).toEqual([]);
      const t = shop.truth.journeys[p.journey];
      if (!t?.hasMetrics) continue;
      if (p.sli.kind === "availability") {
        expect(Math.abs(p.backtest.attainment - 100 * t.availability)).toBeLessThan(0.05);
        checked.push(`${p.journey} availability`);
      }
      if (p.sli.kind === "latency") {
        const le = String(p.sli.threshold!.value / 1000);
        expect(Math.abs(p.backtest.attainment - 100 * t.latencyGoodRatioByLe[le]!)).toBeLessThan(0.05);
        // The threshold is the p95 snapped up to a bucket bound.
        expect(p.sli.threshold!.value / 1000).toBe(t.latencyP95BucketSeconds);
        checked.push(`${p.journey} latency`);
      }
    }
    expect(checked).toEqual(
      expect.arrayContaining(["checkout POST /checkout availability", "checkout POST /checkout latency"]),
    );
  });

  it("marks the payment incident as the top budget consumer of checkout availability, with evidence from the store", async () => {
    const incident = shop.truth.incidents.find((i) => i.id === "payment-psp-outage")!;
    const p = result.proposals.find(
      (x) => x.journey === "checkout POST /checkout" && x.sli.kind === "availability",
    )!;
    const top = p.evidence.find((e) => e.kind === "backtest")!;
    expect(top.note).toMatch(/top budget consumer #1/);
    expect(top.range!.start).toBeLessThan(incident.end);
    expect(top.range!.end).toBeGreaterThan(incident.start);
    const caps = p.evidence.filter((e) => e.kind === "capsule");
    expect(caps.length).toBeGreaterThan(0);
    const stored = await Promise.all(caps.map((c) => getCapsule(sql, c.ref)));
    expect(stored.every((c) => c !== undefined)).toBe(true);
    expect(p.evidence.some((e) => e.kind === "trace")).toBe(true);
  });
});
