import { readFileSync } from "node:fs";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadConfig } from "../../src/config.js";
import { MemoryBus } from "../../src/pipeline/bus/memory.js";
import { MemorySource, queryRange } from "../../src/promql/index.js";
import { buildServer } from "../../src/server/app.js";
import { RECEIVER_ROUTES } from "../../src/server/routes.js";
import { ROOT } from "../generators/helpers.js";

/**
 * The ingest SLIs SLO-Scout generated for itself (deploy/prometheus/slo-scout.rules.yml), evaluated by its
 * own PromQL evaluator over what a real server's /metrics said after some traffic: they find the series
 * and measure what happened.
 */

const RULES = join(ROOT, "deploy/prometheus/slo-scout.rules.yml");
const fixture = readFileSync(join(ROOT, "test/fixtures/receivers/otlp-traces.json"));
const NOW = Date.UTC(2026, 11, 1);

/** The 5-minute error-ratio rule of one SLO, as generated. */
function errorRatioRule(slo: string): string {
  const file = parse(readFileSync(RULES, "utf8")) as {
    groups: { rules: { record?: string; expr: string; labels?: Record<string, string> }[] }[];
  };
  const rule = file.groups
    .flatMap((g) => g.rules)
    .find((r) => r.record === "slo:sli_error:ratio_rate5m" && r.labels?.sloth_slo === slo);
  if (!rule) throw new Error(`${RULES} has no slo:sli_error:ratio_rate5m for ${slo}`);
  return rule.expr;
}

/**
 * The scrape as Prometheus would hold it: each series at 0 a minute ago (the process had just started)
 * and at its scraped value now.
 */
function scraped(text: string): MemorySource {
  const source = new MemorySource();
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = { __name__: m[1]! };
    for (const [, k, v] of (m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[k!] = v!;
    source.add(labels, [NOW - 60_000, NOW], [0, Number(m[3])]);
  }
  return source;
}

async function ratio(source: MemorySource, slo: string): Promise<number | undefined> {
  const result = await queryRange(source, errorRatioRule(slo), NOW, NOW, 60_000);
  const series = result.series[0];
  return series?.present[0] ? series.values[0] : undefined;
}

describe("SLO-Scout's generated ingest SLIs over its own /metrics", () => {
  // Two spans fill the bus, which nothing reads: every later request is answered 503.
  const bus = new MemoryBus({ capacity: 2 });
  let app: Awaited<ReturnType<typeof buildServer>>;
  let metrics = "";

  beforeAll(async () => {
    const config = loadConfig({ OTLP_GRPC_PORT: "0", LOG_LEVEL: "silent" }, "/nonexistent/slo-scout.yml");
    app = await buildServer({ config, logger: pino({ level: "silent" }), bus }, { plugins: RECEIVER_ROUTES });
    const post = (url: string, payload: string | Buffer) =>
      app.inject({ method: "POST", url, payload, headers: { "content-type": "application/json" } });
    expect((await post("/ingest/fluentbit", '[{"log":"no service"}]')).statusCode).toBe(400);
    expect((await post("/v1/traces", fixture)).statusCode).toBe(200);
    expect((await post("/v1/traces", fixture)).statusCode).toBe(503);
    expect((await post("/v1/traces", fixture)).statusCode).toBe(503);
    metrics = (await app.inject({ method: "GET", url: "/metrics" })).body;
  });
  afterAll(async () => {
    await app?.close();
    await bus.close();
  });

  it("ingest-availability counts the 503s against every answer, a 400 as good", async () => {
    expect(await ratio(scraped(metrics), "ingest-availability")).toBeCloseTo(2 / 4, 12);
  });

  it("ingest-ack-latency reads the acknowledgement histogram", async () => {
    const acks = Number(
      /^slo_scout_ingest_ack_duration_seconds_count\{receiver="otlp-http"\} (\S+)$/m.exec(metrics)?.[1],
    );
    const fast = Number(
      /^slo_scout_ingest_ack_duration_seconds_bucket\{le="0.25",receiver="otlp-http"\} (\S+)$/m.exec(
        metrics,
      )?.[1],
    );
    expect(acks).toBe(1);
    expect(await ratio(scraped(metrics), "ingest-ack-latency")).toBeCloseTo((acks - fast) / acks, 12);
  });
});
