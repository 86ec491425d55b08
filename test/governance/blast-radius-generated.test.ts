import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Journey } from "../../src/core/journey.js";
import { Proposal } from "../../src/core/proposal.js";
import type { MetricSeries } from "../../src/core/telemetry.js";
import { specFromProposals } from "../../src/generators/spec/from-proposals.js";
import { migrate } from "../../src/store/migrate.js";
import { insertSamples } from "../../src/store/repos/metric-samples.js";
import { replaceJourneys } from "../../src/store/repos/services.js";
import { openPglite } from "../../src/store/sql/pglite.js";
import { cli, ROOT } from "../generators/helpers.js";

/**
 * The loop on SLO-Scout's own output: a spec written from recorded checkout proposals goes through
 * `generate`, and `blast-radius` on what generate wrote must name checkout (Sloth alerts carry the service
 * only in their expressions), the stored journeys through it, their downstream services, and the pages a
 * dry-run over an hour-long outage in the stored samples would have sent.
 */

const recorded = JSON.parse(
  readFileSync(join(ROOT, "test/fixtures/analysis/demo-checkout.json"), "utf8"),
) as { journeys: Journey[]; proposals: unknown[] };
const availability = Proposal.parse(
  recorded.proposals.find((p) => (p as Proposal).name === "checkout POST /checkout availability"),
);

const MIN = 60_000;
const HOUR = 60 * MIN;
let dir: string;

/** One day of the availability SLI's counter each minute, at half errors for one hour. */
function samples(end: number): MetricSeries[] {
  const base = { service: "checkout", route: "/checkout", method: "POST" };
  const ok: MetricSeries = {
    name: "http_server_requests_total",
    type: "counter",
    labels: { ...base, status: "200" },
    samples: [],
  };
  const bad: MetricSeries = {
    name: "http_server_requests_total",
    type: "counter",
    labels: { ...base, status: "500" },
    samples: [],
  };
  const outage = { start: end - 6 * HOUR, end: end - 5 * HOUR };
  let good = 0;
  let errors = 0;
  for (let t = end - 24 * HOUR; t <= end; t += MIN) {
    const down = t > outage.start && t <= outage.end;
    good += down ? 50 : 100;
    errors += down ? 50 : 0;
    ok.samples.push({ time: t, value: good });
    bad.samples.push({ time: t, value: errors });
  }
  return [ok, bad];
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "slo-scout-blast-generated-"));
  const db = `pglite://${join(dir, "db")}`;
  const sql = await openPglite(db);
  try {
    await migrate(sql);
    await insertSamples(sql, samples(Math.floor(Date.now() / MIN) * MIN));
    for (const j of recorded.journeys) await replaceJourneys(sql, j.service, [j]);
  } finally {
    await sql.close();
  }
  vi.stubEnv("DATABASE_URL", db);
}, 180_000);

afterAll(() => {
  vi.unstubAllEnvs();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("blast-radius on generate's own output", () => {
  it("names the service, the journeys through it, their downstream services and the pages", async () => {
    const spec = specFromProposals("checkout", [availability], { labels: { team: "payments" } });
    const specFile = join(dir, "checkout.yml");
    writeFileSync(specFile, spec.content);
    const change = join(dir, "change");
    const out = join(change, "rules");
    const gen = await cli(["generate", specFile, "-o", out, "--default-slo-period", "28d"]);
    expect(gen.code, gen.stderr).toBe(0);
    const repo = join(dir, "repo");
    mkdirSync(repo);

    const r = await cli(["blast-radius", change, "--against", repo, "--history", "1d", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as {
      services: string[];
      journeys: string[];
      dependents: string[];
      pagesPerMonth: number;
      pagesPerMonthByService: Record<string, number>;
    };
    expect(report.services).toEqual(["checkout"]);
    expect(report.journeys).toEqual([
      "api-gateway POST /api/checkout",
      "checkout POST /checkout",
      "frontend POST /api/checkout",
    ]);
    expect(report.dependents).toEqual(expect.arrayContaining(["cart", "inventory", "payment"]));
    expect(report.dependents).not.toContain("api-gateway");
    expect(report.pagesPerMonthByService.checkout).toBeGreaterThan(0);
    expect(report.pagesPerMonth).toBe(report.pagesPerMonthByService.checkout);
  }, 300_000);
});
