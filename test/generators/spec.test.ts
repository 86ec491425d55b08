import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatIssue, loadSpecs } from "../../src/generators/spec/index.js";
import { SPECS } from "./helpers.js";

const load = (text: string, opts = {}) => loadSpecs(text, "spec.yml", opts);
const messages = (text: string) => load(text).issues.map(formatIssue);

const SLOTH = `version: "prometheus/v1"
service: "api"
labels:
  team: core
slos:
  - name: "availability"
    objective: 99.9
    labels:
      tier: 1
    sli:
      events:
        error_query: sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total[{{ .window }}]))
    alerting:
      name: ApiAvailability
      labels: {category: availability}
      pageAlert:
        labels: {severity: critical}
      ticket_alert:
        disable: true
`;

describe("Sloth prometheus/v1 specs", () => {
  it("map to the SLO model with merged labels, the default period and both key spellings", () => {
    const { slos, issues } = load(SLOTH, { defaultPeriod: "28d" });
    expect(issues).toEqual([]);
    expect(slos).toHaveLength(1);
    const slo = slos[0]!;
    expect(slo).toMatchObject({
      id: "api-availability",
      service: "api",
      name: "availability",
      objective: 99.9,
      period: "28d",
      labels: { team: "core", tier: "1" },
      origin: { spec: "prometheus/v1", file: "spec.yml", line: 6 },
      alerting: {
        name: "ApiAvailability",
        labels: { category: "availability" },
        page: { disable: false, labels: { severity: "critical" } },
        ticket: { disable: true },
      },
    });
    expect("events" in slo.sli && slo.sli.events.totalQuery).toContain("{{ .window }}");
  });

  it("reads the Kubernetes CRD form", () => {
    const crd = `apiVersion: sloth.slok.dev/v1
kind: PrometheusServiceLevel
metadata: {name: api}
spec:
  service: api
  slos:
    - name: errors
      objective: 99
      sli:
        raw:
          errorRatioQuery: sum(rate(errors_total[{{.window}}])) / sum(rate(requests_total[{{.window}}]))
      alerting:
        pageAlert: {disable: true}
        ticketAlert: {disable: true}
`;
    const { slos, issues } = load(crd);
    expect(issues).toEqual([]);
    expect(slos[0]).toMatchObject({ id: "api-errors", origin: { spec: "sloth.slok.dev/v1" } });
  });

  it("names the field and line of each problem", () => {
    const bad = SLOTH.replace("objective: 99.9", "objective: 0")
      .replace("[{{ .window }}]", "[5m]")
      .replace(
        'error_query: sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))',
        "error_query: sum(rate(x[{{.window}}])",
      )
      .replace("name: ApiAvailability", "summary: none");
    const out = messages(bad);
    expect(out).toContain(
      "spec.yml:7: slos[0].objective: must be > 0 and <= 100 (a percent such as 99.9), got 0",
    );
    expect(
      out.some((m) =>
        m.startsWith("spec.yml:13: slos[0].sli.events.total_query: query must contain the {{.window}}"),
      ),
    ).toBe(true);
    expect(
      out.some((m) => m.startsWith("spec.yml:12: slos[0].sli.events.error_query: is not valid PromQL")),
    ).toBe(true);
    expect(out.some((m) => m.startsWith("spec.yml:15: slos[0].alerting.name: is required unless both"))).toBe(
      true,
    );
  });

  it("says a one-character SLO name is too short, not that it must start and end with a letter", () => {
    const out = messages(SLOTH.replace(/- name: .*/, "- name: a")).join("\n");
    expect(out).toMatch(/slos\[0\]\.name: "a" is too short: a name needs at least 2 characters/);
    expect(out).not.toMatch(/must start and end/);
    expect(messages(SLOTH.replace(/- name: .*/, "- name: -a")).join("\n")).toMatch(/must start and end/);
  });

  it("rejects equal error and total queries, bad label names and SLI plugins", () => {
    const same = SLOTH.replace(
      /error_query: .*/,
      "error_query: sum(rate(http_requests_total[{{ .window }}]))",
    );
    expect(messages(same).join("\n")).toMatch(/error and total queries must differ/);
    expect(messages(SLOTH.replace("tier: 1", "bad-label: x")).join("\n")).toMatch(
      /slos\[0\]\.labels\.bad-label: "bad-label" is not a valid Prometheus label name/,
    );
    const plugin = SLOTH.replace(
      / {6}events:\n.*\n.*\n/,
      "      plugin:\n        id: sloth-common/kubernetes/apiserver/availability\n",
    );
    expect(messages(plugin).join("\n")).toMatch(/SLI plugins are not supported/);
  });

  it("reports YAML syntax errors and foreign documents with their line", () => {
    expect(messages("version: prometheus/v1\nslos: [\n")[0]).toMatch(/^spec\.yml:\d+: invalid YAML/);
    expect(messages("---\nkind: Deployment\n")[0]).toMatch(/^spec\.yml:2: document 1 is not an SLO spec/);
    expect(messages("")[0]).toMatch(/no SLO spec found/);
  });
});

describe("OpenSLO specs", () => {
  it("reads v1alpha as Sloth does: one SLO per objective, good/total as 1 - ratio, alerts off", () => {
    const text = `apiVersion: openslo/v1alpha
kind: SLO
metadata: {name: latency}
spec:
  service: api
  objectives:
    - ratioMetrics:
        good: {source: prometheus, queryType: promql, query: 'sum(rate(d_bucket{le="0.4"}[{{.window}}]))'}
        total: {source: prometheus, queryType: promql, query: 'sum(rate(d_count[{{.window}}]))'}
      target: 0.99
  timeWindows:
    - count: 28
      unit: Day
`;
    const { slos, issues } = load(text);
    expect(issues).toEqual([]);
    expect(slos[0]).toMatchObject({ id: "api-latency-0", name: "latency-0", objective: 99, period: "28d" });
    expect(slos[0]!.alerting.page.disable && slos[0]!.alerting.ticket.disable).toBe(true);
    expect("raw" in slos[0]!.sli && slos[0]!.sli.raw.errorRatioQuery).toMatch(
      /1 - \(\s*\(\s*sum\(rate\(d_bucket/,
    );
    const week = load(text.replace("unit: Day", "unit: Week")).issues.map(formatIssue);
    expect(week[0]).toMatch(
      /^spec\.yml:13: spec\.timeWindows\[0\]\.unit: only Day time windows are supported/,
    );
  });

  it("reads v1 with SLI references, threshold metrics, rolling windows and alert policies", () => {
    const { slos, issues } = loadSpecs(readFileSync(join(SPECS, "payments-openslo-v1.yml"), "utf8"), "p.yml");
    expect(issues).toEqual([]);
    const [avail, latency] = slos;
    expect(avail).toMatchObject({
      id: "payments-payments-availability",
      displayName: "Payments availability",
      objective: 99.9,
      period: "28d",
      labels: { team: "payments" },
      origin: { spec: "openslo/v1" },
      sli: { events: { errorQuery: expect.stringContaining('code=~"5.."') } },
      alerting: {
        name: "PaymentsErrorBudgetBurn",
        page: { disable: false, for: "5m", labels: { severity: "critical" } },
        ticket: { disable: true },
      },
    });
    expect(latency).toMatchObject({ id: "payments-payments-p99-latency", objective: 99, period: "28d" });
    expect("raw" in latency!.sli && latency!.sli.raw.errorRatioQuery).toBe(
      '1 - avg_over_time(((histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{service="payments"}[5m])))) <= bool 0.5)[{{.window}}:])',
    );
  });

  it("names unresolved references, calendar windows and non-Prometheus sources", () => {
    const base = readFileSync(join(SPECS, "payments-openslo-v1.yml"), "utf8");
    const unresolved = loadSpecs(
      base.replace("indicatorRef: payments-5xx", "indicatorRef: nope"),
      "p.yml",
    ).issues.map(formatIssue);
    expect(unresolved.join("\n")).toMatch(
      /p\.yml:\d+: spec\.indicatorRef: SLI "nope" is not defined in the input/,
    );
    const calendar = loadSpecs(
      base.replace("duration: 28d\n      isRolling: true", "duration: 1M\n      isRolling: false"),
      "p.yml",
    ).issues;
    expect(calendar.map(formatIssue).join("\n")).toMatch(/calendar-aligned windows are not supported/);
    const datadog = loadSpecs(base.replace("type: Prometheus", "type: Datadog"), "p.yml").issues;
    expect(datadog.map(formatIssue).join("\n")).toMatch(
      /only Prometheus metric sources are supported, got "Datadog"/,
    );
  });
});

describe("Sloth rule-group intervals", () => {
  it("carry over to the groups, with `all` as the default, and survive export", async () => {
    const text = SLOTH.replace(
      "    objective: 99.9\n",
      "    objective: 99.9\n    interval:\n      all: 5m\n      slierror: 4m\n",
    );
    const { slos, issues } = load(text);
    expect(issues).toEqual([]);
    expect(slos[0]!.ruleIntervals).toEqual({ sli: "4m", meta: "5m", alerts: "5m" });
    const { generateSloRules } = await import("../../src/generators/generate.js");
    const rules = generateSloRules(slos[0]!);
    expect([rules.sli?.interval, rules.meta?.interval, rules.alerts?.interval]).toEqual(["4m", "5m", "5m"]);
    const { toSlothSpecs } = await import("../../src/generators/spec/index.js");
    expect(load(toSlothSpecs(slos)).slos[0]!.ruleIntervals).toEqual(slos[0]!.ruleIntervals);
    expect(messages(text.replace("all: 5m", "all: often")).join("\n")).toMatch(
      /spec\.yml:9: slos\[0\]\.interval\.all: must be a duration such as 2m, got "often"/,
    );
  });
});
