import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { analyzeService } from "../../src/analysis/analyze.js";
import { buildChangeSet } from "../../src/app/change-set.js";
import { type AppContext, openApp } from "../../src/app/context.js";
import { exportDerived } from "../../src/app/export-derived.js";
import { LAYOUT } from "../../src/app/layout.js";
import { ConfigSchema } from "../../src/config.js";
import type { SliHistory } from "../../src/core/history.js";
import type { Proposal } from "../../src/core/proposal.js";
import { sloName, specFromProposals } from "../../src/generators/spec/from-proposals.js";
import { storeSmallDemo } from "../helpers/demo-store.js";
import {
  type PrometheusInstance,
  prometheusAvailable,
  startPrometheus,
} from "../helpers/prometheus-instance.js";

/**
 * The derived series in a real Prometheus (Debian's 2.42): the small demo's logs, traces and RUM (its
 * metrics left out: the log and RUM SLIs are the point) are stored and analysed; the generated rules of a
 * logs-only service (notification: a log SLI) and of the user-facing frontend (LCP/INP/CLS SLIs) are loaded
 * into a Prometheus that `exportDerived` fills over remote_write. Prometheus then runs every generated rule
 * without an error, and its ratios are analyze's: the SLO window's rule against analyze's history over the
 * same window, and the proposal's PromQL over the whole history against the attainment analyze reported.
 * Tolerances: 10⁻⁶ on the rule's 3-day error ratio (Prometheus extrapolates a series whose first sample in
 * the window is zero less than the others, by seconds in three days; measured ≤ 2·10⁻⁸); 10⁻⁴ percentage
 * points on the whole-history attainment (analyze's per-step increase() is 1 ms longer than its step, up
 * to 3·10⁻⁶ relative; measured 1.3·10⁻⁶ points).
 */

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const MIN = 60_000;
/** The demo ends on an hour a little before now, so the rules Prometheus evaluates now see its last days. */
const END = Math.floor(Date.now() / HOUR) * HOUR - HOUR;

type Prom = { data: { result: { metric: Record<string, string>; value: [number, string] }[] } };

async function instant(url: string, query: string, time?: number): Promise<Prom["data"]["result"]> {
  const body = new URLSearchParams({ query, ...(time !== undefined ? { time: String(time / 1000) } : {}) });
  const res = await fetch(`${url}/api/v1/query`, { method: "POST", body });
  const json = (await res.json()) as Prom & { error?: string };
  if (!res.ok) throw new Error(`${query}: ${json.error}`);
  return json.data.result;
}

const available = await prometheusAvailable();

describe.runIf(available)("derived log and RUM series in a real Prometheus", () => {
  let dir: string;
  let app: AppContext;
  let prom: PrometheusInstance;
  const histories = new Map<string, SliHistory>();
  const proposals: Proposal[] = [];
  let exported: Awaited<ReturnType<typeof exportDerived>>;
  let exportedAt = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "slo-scout-derived-"));
    app = await openApp(
      ConfigSchema.parse({ DATABASE_URL: "pglite://memory", SLO_SCOUT_REPO: join(dir, "repo") }),
      { logger: pino({ level: "silent" }) },
    );
    await storeSmallDemo(app.sql, join(dir, "blobs"), 8, { end: END, without: ["metric"] });
    const rules: string[] = [];
    for (const service of ["notification", "frontend"]) {
      const result = await analyzeService(
        service,
        { sql: app.sql, onHistory: (sli, h) => histories.set(sli.id, h) },
        { end: END },
      );
      const mine = result.proposals.filter((p) => p.sli.kind === "log" || p.sli.kind === "rum");
      proposals.push(...mine);
      const spec = specFromProposals(service, mine);
      const built = buildChangeSet(service, spec, { period: "28d" });
      if (!built.ok) throw new Error(built.refusal.reason);
      rules.push(built.value.files.find((f) => f.path === LAYOUT.rules(service))!.content);
    }
    // Its rules write samples of now before the history arrives, as any running Prometheus holds some.
    prom = await startPrometheus({ rules, evaluationInterval: "2s", outOfOrderWindow: "30d" });
    exported = await exportDerived(app, { url: `${prom.url}/api/v1/write` });
    exportedAt = Date.now();
  }, 240_000);

  afterAll(async () => {
    await prom?.remove();
    await app?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("analyze proposed a log SLI and the three web-vital SLIs over the derived names", () => {
    expect(proposals.map((p) => `${p.service} ${p.sli.kind} ${p.sli.source}`).sort()).toEqual(
      expect.arrayContaining(["frontend rum rum", "notification log logs"]),
    );
    expect(proposals.filter((p) => p.sli.kind === "rum").length).toBeGreaterThanOrEqual(3);
    for (const p of proposals)
      expect(p.sli.promql.total).toMatch(/slo_scout_(log_events_total|web_vital_bucket)\{/);
    expect(exported.ok, JSON.stringify(exported)).toBe(true);
    if (exported.ok) {
      expect(exported.value.stepMs).toBe(MIN);
      expect(exported.value.end).toBe(END);
    }
  });

  it("runs every generated log and RUM rule without an error", async () => {
    type Rules = { data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] } };
    let rules: Rules["data"]["groups"][number]["rules"] = [];
    const deadline = Date.now() + 30_000;
    do {
      await new Promise((r) => setTimeout(r, 500));
      const body = (await (await fetch(`${prom.url}/api/v1/rules`)).json()) as Rules;
      rules = body.data.groups.flatMap((g) => g.rules);
    } while (rules.some((r) => r.health !== "ok") && Date.now() < deadline);
    expect(rules.length).toBeGreaterThan(proposals.length * 10);
    expect(rules.filter((r) => r.health !== "ok").map((r) => `${r.name}: ${r.lastError}`)).toEqual([]);
  });

  it("records the 3-day error ratio analyze's history gives over the same window", {
    timeout: 120_000,
  }, async () => {
    for (const p of proposals) {
      const filter = `{sloth_service="${p.service}",sloth_slo="${sloName(p)}"}`;
      // The latest evaluation of the rule, once one has run on the whole export: its value and its time.
      const ratio = `slo:sli_error:ratio_rate3d${filter}`;
      let got: Prom["data"]["result"] = [];
      const deadline = Date.now() + 30_000;
      for (;;) {
        got = await instant(prom.url, `${ratio} and on() (timestamp(${ratio}) > ${exportedAt / 1000})`);
        if (got.length > 0 || Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      expect(got, `${p.name}: no recorded ${ratio} after the export`).toHaveLength(1);
      const value = got[0]!.value[1];
      const at = Number((await instant(prom.url, `timestamp(${ratio})`))[0]!.value[1]);
      // The rule's range holds the 1-minute samples from the first at or after at − 3d; its increase counts
      // the hours that end after that first sample.
      const firstSample = Math.ceil((at * 1000 - 3 * DAY) / MIN) * MIN;
      let good = 0;
      let total = 0;
      for (const pt of histories.get(p.sli.id)!.points) {
        if (pt.t <= firstSample) continue;
        good += pt.good;
        total += pt.total;
      }
      const expected = 1 - good / total;
      expect(total).toBeGreaterThan(0);
      expect(Math.abs(Number(value) - expected), `${p.name}: ${value} vs ${expected}`).toBeLessThanOrEqual(
        1e-6,
      );
    }
  });

  it("gives the attainment analyze reported over the whole history", { timeout: 120_000 }, async () => {
    const answers = await Promise.all(
      proposals.map((p) =>
        instant(prom.url, `1 - (${p.sli.promql.errorRatio.replaceAll("{{.window}}", "9d")})`, END),
      ),
    );
    for (const [i, p] of proposals.entries()) {
      const got = answers[i]!;
      expect(got, p.name).toHaveLength(1);
      expect(Math.abs(Number(got[0]!.value[1]) * 100 - p.backtest.attainment), p.name).toBeLessThanOrEqual(
        1e-4,
      );
    }
  });
});
