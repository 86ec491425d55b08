import { describe, expect, it } from "vitest";
import type { Journey } from "../../src/core/journey.js";
import { generateAll } from "../../src/generators/generate.js";
import { buildDashboard, dashboardQueries } from "../../src/generators/grafana.js";
import { buildRunbook } from "../../src/generators/runbook.js";
import { loadSpecs } from "../../src/generators/spec/index.js";
import { dashboardErrors } from "../../src/generators/validate/dashboard.js";
import { runbookErrors } from "../../src/generators/validate/runbook.js";

const SPEC = `
version: prometheus/v1
service: checkout
slos:
  - name: requests-availability
    objective: 99.9
    description: Checkout requests that do not fail.
    sli:
      events:
        error_query: sum(rate(http_server_requests_total{service="checkout",status=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_server_requests_total{service="checkout"}[{{.window}}]))
    alerting:
      name: CheckoutAvailability
      page_alert: { labels: { severity: page } }
      ticket_alert: { labels: { severity: ticket } }
  - name: requests-latency
    objective: 99
    sli:
      raw:
        error_ratio_query: 1 - (sum(rate(http_server_request_duration_seconds_bucket{service="checkout",le="0.5"}[{{.window}}])) / sum(rate(http_server_request_duration_seconds_count{service="checkout"}[{{.window}}])))
    alerting:
      name: CheckoutLatency
`;

const { slos, issues } = loadSpecs(SPEC, "spec.yml", { defaultPeriod: "28d" });
const rules = generateAll(slos);

const journey: Journey = {
  key: "checkout POST /checkout",
  service: "checkout",
  entrySpans: ["POST /checkout"],
  downstream: [
    {
      from: "checkout",
      to: "inventory",
      operation: "POST /stock/reserve",
      calls: 900,
      errorShare: 0.001,
      p50Ms: 20,
      p95Ms: 80,
    },
    {
      from: "checkout",
      to: "payment",
      operation: "Payment/Charge",
      calls: 800,
      errorShare: 0.02,
      p50Ms: 40,
      p95Ms: 120,
    },
  ],
  signature: "x",
  trafficShare: 0.4,
  requests: 1000,
  errorShare: 0.01,
  depth: 2,
  userFacing: true,
  score: 1,
  exampleTraceIds: [],
};

describe("Grafana dashboard", () => {
  it("passes Grafana's dashboard schema and every panel query parses", () => {
    expect(issues).toEqual([]);
    const d = buildDashboard("checkout", rules);
    expect(dashboardErrors(JSON.stringify(d), "checkout.json")).toEqual([]);
    expect(d.templating?.list?.map((v) => v.name)).toEqual(["datasource", "service"]);
    const queries = dashboardQueries(d);
    expect(queries.some((q) => q.includes("slo:period_error_budget_remaining:ratio"))).toBe(true);
    expect(queries.some((q) => q.includes("slo:sli_error:ratio_rate3d"))).toBe(true);
    expect(queries.some((q) => q.includes("ALERTS{"))).toBe(true);
  });

  it("reports a schema violation and an unparsable query with the file", () => {
    const d = buildDashboard("checkout", rules) as unknown as {
      panels: { gridPos: unknown; targets?: { expr: string }[] }[];
    };
    d.panels[1]!.gridPos = "top-left";
    d.panels[2]!.targets![0]!.expr = "sum(rate(x[5m])";
    const errors = dashboardErrors(JSON.stringify(d), "checkout.json");
    expect(errors.some((e) => /^checkout\.json:1: dashboard schema: \/panels\/1\/gridPos/.test(e))).toBe(
      true,
    );
    expect(errors.some((e) => /panel query "sum\(rate\(x\[5m\]\)"/.test(e))).toBe(true);
    expect(dashboardErrors("{", "x.json")[0]).toMatch(/not valid JSON/);
  });
});

describe("runbook", () => {
  const text = buildRunbook(rules[0]!, {
    journey,
    fingerprints: [{ id: `${"a".repeat(64)}:0`, template: "payment declined for order <*>", count: 42 }],
    dashboardUrl: "https://grafana.example/d/slo",
  });

  it("explains the SLO, its queries, the alert windows, downstream checks and top errors", () => {
    expect(runbookErrors(text, "runbook.md")).toEqual([]);
    expect(text).toContain(
      'sum(rate(http_server_requests_total{service="checkout",status=~"5.."}[{{.window}}]))',
    );
    expect(text).toMatch(/\| page \| 1h \| 5m \| 13\.44x \| 2% \|/);
    expect(text.indexOf("**payment**")).toBeLessThan(text.indexOf("**inventory**"));
    expect(text).toContain("payment declined for order <*>");
    expect(text.startsWith("---\nslo: checkout-requests-availability\n")).toBe(true);
  });

  it("is refused when front matter or a section is missing", () => {
    expect(runbookErrors(text.replace("## First checks", "## Later"), "r.md")).toEqual([
      'r.md:1: runbook lacks the section "First checks"',
    ]);
    expect(runbookErrors(text.replace(/^---\n[\s\S]*?\n---\n/, ""), "r.md")[0]).toMatch(
      /no YAML front matter/,
    );
    expect(runbookErrors(text.replace("service: checkout\n", ""), "r.md")).toEqual([
      "r.md:2: front matter lacks service",
    ]);
  });
});
