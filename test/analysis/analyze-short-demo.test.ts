import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AnalysisResult, analyzeService } from "../../src/analysis/analyze.js";
import { migrate } from "../../src/store/migrate.js";
import type { Sql } from "../../src/store/ports.js";
import { openPglite } from "../../src/store/sql/pglite.js";
import { SMALL_DEMO_END, SMALL_DEMO_STEP_SECONDS, storeSmallDemo } from "../helpers/demo-store.js";

/**
 * Three days of the demo shop: every SLI kind (metric, log, browser) is measured on the three days that
 * exist, so each is refused with the date it can run, none claims 28 days of coverage.
 */

let sql: Sql;
let dir: string;
const results = new Map<string, AnalysisResult>();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "slo-scout-short-demo-"));
  sql = await openPglite("pglite://memory");
  await migrate(sql);
  await storeSmallDemo(sql, dir, 3);
  for (const service of ["frontend", "checkout", "cart", "notification"]) {
    results.set(service, await analyzeService(service, { sql }, { stepMs: SMALL_DEMO_STEP_SECONDS * 1000 }));
  }
}, 300_000);

afterAll(async () => {
  await sql?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("analyze after a 3-day demo", () => {
  it("refuses every SLI kind with the date it can run, measured from that SLI's own data", () => {
    const kinds = new Set<string>();
    for (const [service, r] of results) {
      expect(r.proposals, service).toEqual([]);
      expect(r.skipped.length, service).toBeGreaterThan(0);
      for (const s of r.skipped) {
        kinds.add(s.kind);
        const m = /: (\d+\.\d) days \((\S+) to (\S+)\);.*run again after (\S+)\.$/.exec(s.reason);
        expect(m, s.reason).not.toBeNull();
        const [, days, from, to, after] = m!;
        // Browser SLIs start with the first page load, later than the metrics: their own data, not the range's.
        expect(Number(days)).toBeGreaterThan(2);
        expect(Number(days)).toBeLessThanOrEqual(3);
        expect(Date.parse(to!)).toBe(SMALL_DEMO_END);
        expect(Date.parse(after!) - Date.parse(from!)).toBe(7 * 86_400_000);
      }
    }
    expect([...kinds].sort()).toEqual(["availability", "latency", "log", "rum"]);
  });
});
