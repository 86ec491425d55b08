import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { main } from "../../src/cli.js";
import { parseAnalyzeFlags, renderText } from "../../src/commands/analyze.js";
import { migrate } from "../../src/store/migrate.js";
import { listProposals } from "../../src/store/repos/proposals.js";
import { openPglite } from "../../src/store/sql/pglite.js";
import { capsule, DAY, END, HOUR, writeService } from "../analysis/analyze-fixture.js";

describe("analyze flags", () => {
  it("parses the documented flags and refuses bad ones with the reason", () => {
    expect(parseAnalyzeFlags(["checkout"])).toMatchObject({
      service: "checkout",
      window: "28d",
      json: false,
      stepMs: 300_000,
      quantile: 0.95,
      maxJourneys: 8,
      llm: true,
      save: true,
    });
    expect(
      parseAnalyzeFlags(["x", "--window", "4w", "--json", "--step", "1h", "--end", "2026-11-20T00:00:00Z"]),
    ).toMatchObject({ window: "4w", json: true, stepMs: 3_600_000, end: END });
    expect(() => parseAnalyzeFlags([])).toThrow(/exactly one service/);
    expect(() => parseAnalyzeFlags(["x", "--window", "28x"])).toThrow(/--window/);
    expect(() => parseAnalyzeFlags(["x", "--step", "7m"])).toThrow(/divide a day/);
    expect(() => parseAnalyzeFlags(["x", "--quantile", "95"])).toThrow(/--quantile/);
    expect(() => parseAnalyzeFlags(["x", "--end", "yesterday"])).toThrow(/--end/);
    expect(() => parseAnalyzeFlags(["x", "--bogus"])).toThrow(/bogus/);
  });
});

describe("slo-scout analyze and simulate", () => {
  let dir: string;
  const out: string[] = [];
  const err: string[] = [];
  const INCIDENT = END - 5 * DAY + 2 * HOUR;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "slo-scout-analyze-cli-"));
    vi.stubEnv("DATABASE_URL", `pglite://${dir}`);
    vi.stubEnv("PROMETHEUS_URL", "");
    vi.stubEnv("OPENAI_BASE_URL", "");
    vi.stubEnv("OPENAI_API_KEY", "");
    const sql = await openPglite(`pglite://${dir}`);
    await migrate(sql);
    await writeService(sql, {
      service: "shop",
      method: "POST",
      route: "/orders",
      days: 10,
      counts: (_i, t) => ({ ok: 95, client: 4, server: t > INCIDENT && t <= INCIDENT + 2 * HOUR ? 20 : 1 }),
      latency: { les: [0.1, 0.25, 0.5], shares: [0.6, 0.37, 0.02, 0.01] },
      capsules: (h) => (h === INCIDENT ? [capsule("shop", "9", "db pool exhausted", h, { error: 80 })] : []),
    });
    await sql.close();
    vi.spyOn(process.stdout, "write").mockImplementation((s) => out.push(String(s)) > 0);
    vi.spyOn(process.stderr, "write").mockImplementation((s) => err.push(String(s)) > 0);
  }, 300_000);
  afterAll(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
    rmSync(dir, { recursive: true, force: true });
  });
  const run = async (args: string[]) => {
    out.length = 0;
    err.length = 0;
    const code = await main(args);
    return { code, stdout: out.join(""), stderr: err.join("") };
  };

  it("prints the documented JSON shape, stores the proposals, and a readable text form", async () => {
    const r = await run(["analyze", "shop", "--json", "--step", "15m"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(Object.keys(json).sort()).toEqual(
      [
        "journeys",
        "proposals",
        "range",
        "recommendations",
        "service",
        "skipped",
        "warnings",
        "window",
      ].sort(),
    );
    expect(json.service).toBe("shop");
    expect(json.window).toBe("28d");
    expect(json.journeys[0]).toMatchObject({
      key: "shop POST /orders",
      entrySpans: ["POST /orders"],
      downstream: [],
    });
    expect(json.journeys[0].trafficShare).toBe(1);
    const p = json.proposals.find((x: { sli: { kind: string } }) => x.sli.kind === "availability");
    expect(Object.keys(p.sli.promql).sort()).toEqual(["errorRatio", "good", "total"]);
    expect(Object.keys(p.target)).toEqual(expect.arrayContaining(["recommended", "errorBudget"]));
    expect(p.confidence.parts.map((x: { name: string }) => x.name)).toContain("coverage");
    expect(p.evidence.map((e: { kind: string }) => e.kind)).toEqual(
      expect.arrayContaining(["metric", "backtest", "capsule"]),
    );
    expect(p.warnings.join(" ")).toMatch(/only 10\.0 days of history/);

    const sql = await openPglite(`pglite://${dir}`);
    try {
      expect((await listProposals(sql, { service: "shop" })).map((x) => x.id).sort()).toEqual(
        json.proposals.map((x: { id: string }) => x.id).sort(),
      );
    } finally {
      await sql.close();
    }
    const text = renderText(json);
    expect(text).toContain("Journeys (1):");
    expect(text).toMatch(/target +recommended [\d.]+%/);
    expect(text).toContain(p.sli.promql.good);
    expect(text).toMatch(/confidence [\d.]+\n {4}coverage/);
  }, 300_000);

  it("simulates a target on an SLI id from analyze, and names the known services for an unknown one", async () => {
    const a = JSON.parse((await run(["analyze", "shop", "--json", "--step", "15m", "--no-save"])).stdout);
    const id = a.proposals[0].sli.id as string;
    const s = await run(["simulate", "shop", "--sli", id, "--target", "99.9", "--step", "15m", "--json"]);
    expect(s.code).toBe(0);
    const sim = JSON.parse(s.stdout);
    expect(sim.sli.id).toBe(id);
    expect(sim.simulation.target).toBe(99.9);
    expect(sim.simulation.breaches.length).toBeGreaterThan(0);
    expect(sim.simulation.summary.pages).toBeGreaterThan(0);

    const bad = await run(["simulate", "shop", "--sli", id]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--target <percent> is required/);
    const unknown = await run(["analyze", "nope"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/unknown service "nope". Known services: shop/);
  }, 300_000);
});
