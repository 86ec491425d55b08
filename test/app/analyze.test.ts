import pino from "pino";
import { beforeAll, describe, expect, it } from "vitest";
import { analyze } from "../../src/app/analyze.js";
import { type AppContext, openApp } from "../../src/app/context.js";
import { ConfigSchema } from "../../src/config.js";
import { registry } from "../../src/observability/metrics.js";

/**
 * Every analysis's outcome is counted on /metrics, where SLO-Scout's own analysis SLO (deploy/slo) reads
 * it. A completed analysis is counted as done in test/app/main-job.test.ts, which runs one anyway.
 */

async function analysesCounted(outcome: "done" | "refused" | "failed"): Promise<number> {
  const metric = registry.getSingleMetric("slo_scout_analyses_total");
  const values = metric ? (await metric.get()).values : [];
  return values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
}

describe("analyze counts its outcomes", () => {
  let app: AppContext;
  beforeAll(async () => {
    app = await openApp(ConfigSchema.parse({ DATABASE_URL: "pglite://memory" }), {
      logger: pino({ level: "silent" }),
    });
  }, 60_000);

  it("a refusal as refused, an unexpected error as failed, neither as done", async () => {
    const unknown = await analyze(app, { service: "no-such-service", llm: false });
    expect(unknown).toMatchObject({ ok: false, refusal: { code: "unknown-service" } });
    expect(await analysesCounted("refused")).toBe(1);
    expect(await analysesCounted("failed")).toBe(0);

    // A database that went away mid-flight is not an answer: the analysis failed.
    await app.close();
    await expect(analyze(app, { service: "checkout", llm: false })).rejects.toThrow();
    expect(await analysesCounted("failed")).toBe(1);
    expect(await analysesCounted("refused")).toBe(1);
    expect(await analysesCounted("done")).toBe(0);
  });
});
