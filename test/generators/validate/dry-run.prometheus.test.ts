import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { dryRunEmbedded, dryRunPrometheus } from "../../../src/generators/validate/dry-run.js";
import { PrometheusQuerier } from "../../../src/history/prometheus-querier.js";
import { MemorySource, queryRange } from "../../../src/promql/index.js";
import type { PromqlCompat } from "../../../src/promql/types.js";
import { requireService } from "../../helpers/services.js";
import {
  prometheusBinaries,
  type RunningPrometheus,
  startPrometheusWith,
} from "../../promql/prometheus-harness.js";
import { checkoutSeries, DAY, INCIDENTS, T0 } from "../../promql/synthetic.js";

/**
 * The done-when check of the dry-run: the same synthetic history is backfilled into a real Prometheus
 * (promtool tsdb create-blocks-from openmetrics) and kept in memory for the embedded evaluator; the
 * Sloth-style alert rules must fire over exactly the same intervals either way.
 */

const rules = parse(
  readFileSync(new URL("../../fixtures/promql/sloth-checkout.rules.yml", import.meta.url), "utf8"),
);
const series = checkoutSeries(4);
const available = await requireService(
  "prometheus and promtool (apt-get install prometheus)",
  prometheusBinaries,
);

describe.runIf(available)("dry-run against a real Prometheus", () => {
  let prom: RunningPrometheus;
  let compat: PromqlCompat;

  beforeAll(async () => {
    prom = await startPrometheusWith(series);
    compat = prom.version.startsWith("2.") ? "v2" : "v3";
  }, 60_000);

  afterAll(async () => {
    await prom?.stop();
  });

  it("gives the same firing intervals as the embedded evaluator over the same samples", async () => {
    const window = { startMs: T0 + DAY, endMs: T0 + 4 * DAY };
    const [embedded, remote] = await Promise.all([
      dryRunEmbedded(rules, new MemorySource(series), { ...window, compat }),
      dryRunPrometheus(rules, prom.url, window),
    ]);
    expect(remote.alerts.map((a) => a.ruleLabels.sloth_severity)).toEqual(["page", "ticket"]);
    for (const [i, a] of remote.alerts.entries()) {
      const e = embedded.alerts[i]!;
      expect(e.intervals.map((x) => [x.start, x.end, x.labels])).toEqual(
        a.intervals.map((x) => [x.start, x.end, x.labels]),
      );
      expect(e.firingMs).toBe(a.firingMs);
    }
    // Not two empty reports agreeing: the fast burst pages, within minutes of its start.
    const page = remote.alerts[0]!;
    expect(page.firings).toBeGreaterThan(0);
    const first = page.intervals[0]!;
    expect(first.start).toBeGreaterThanOrEqual(INCIDENTS.fastBurst.start);
    expect(first.start - INCIDENTS.fastBurst.start).toBeLessThan(10 * 60_000);
  }, 60_000);

  it("computes the SLI windows as Prometheus does, step by step", async () => {
    const client = new PrometheusQuerier(prom.url);
    const source = new MemorySource(series);
    for (const window of ["5m", "1h", "1d", "3d"]) {
      const q = `(sum(rate(http_requests_total{job="checkout",code=~"(5..|429)"}[${window}])))
        / (sum(rate(http_requests_total{job="checkout"}[${window}])))`;
      const start = T0 + DAY;
      const end = T0 + 4 * DAY;
      const [mine, theirs] = await Promise.all([
        queryRange(source, q, start, end, 300_000, { compat }),
        client.queryRange(q, start, end, 300_000),
      ]);
      expect(mine.series).toHaveLength(1);
      expect(theirs.series).toHaveLength(1);
      const a = mine.series[0]!;
      const b = theirs.series[0]!;
      expect(Array.from(a.present)).toEqual(Array.from(b.present));
      for (let k = 0; k < a.values.length; k++) {
        if (!a.present[k]) continue;
        expect(Math.abs(a.values[k]! - b.values[k]!)).toBeLessThanOrEqual(
          1e-12 * Math.max(1, Math.abs(b.values[k]!)),
        );
      }
    }
  }, 60_000);

  it("with recording rules backfilled by promtool, querying them as written agrees within one evaluation", async () => {
    // Around the fast burst only, and only the SLI rules the alerts read: promtool backfills slowly.
    const window = { startMs: T0 + DAY + 9 * 3_600_000, endMs: T0 + DAY + 18 * 3_600_000 };
    const sliRules = {
      groups: [
        {
          ...rules.groups[0],
          rules: rules.groups[0].rules.filter(
            (r: { record: string }) => r.record !== "slo:sli_error:ratio_rate30d",
          ),
        },
      ],
    };
    const file = join(await mkdtemp(join(tmpdir(), "slo-scout-rules-")), "sli.rules.yml");
    await writeFile(file, stringify(sliRules));
    await prom.backfillRules(file, window.startMs - 10 * 60_000, window.endMs);
    await rm(dirname(file), { recursive: true, force: true });
    const [inline, recorded] = await Promise.all([
      dryRunPrometheus(rules, prom.url, window),
      dryRunPrometheus(rules, prom.url, { ...window, recordingRules: "remote" }),
    ]);
    expect(recorded.alerts[0]!.evaluatedExpr).toBe(recorded.alerts[0]!.expr);
    for (const [i, a] of recorded.alerts.entries()) {
      const b = inline.alerts[i]!;
      expect(a.intervals.length).toBe(b.intervals.length);
      expect(a.intervals.length).toBeGreaterThan(0);
      // promtool evaluates each group at a hash-derived offset within the interval (as Prometheus does),
      // so a recorded series lags the inline expression by less than one evaluation.
      for (const [j, x] of a.intervals.entries()) {
        const y = b.intervals[j]!;
        expect(Math.abs(x.start - y.start)).toBeLessThanOrEqual(60_000);
        expect(Math.abs(x.end - y.end)).toBeLessThanOrEqual(60_000);
      }
    }
  }, 120_000);
});
