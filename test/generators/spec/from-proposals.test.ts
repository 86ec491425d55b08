import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import type { Journey } from "../../../src/core/journey.js";
import { Proposal } from "../../../src/core/proposal.js";
import {
  alertName,
  SpecMergeError,
  sloName,
  specFromProposals,
} from "../../../src/generators/spec/from-proposals.js";
import { loadSpecs } from "../../../src/generators/spec/index.js";
import { cli, FIXTURES, ROOT } from "../helpers.js";

/**
 * Proposals recorded from `analyze checkout` on the demo shop (test/fixtures/analysis) become the spec a
 * team keeps; `generate` must accept it as is. Regenerate the golden file with
 * `UPDATE_GOLDEN=1 npx vitest run test/generators/spec/from-proposals.test.ts` and review the diff.
 */

const recorded = JSON.parse(
  readFileSync(join(ROOT, "test/fixtures/analysis/demo-checkout.json"), "utf8"),
) as { journeys: Journey[]; proposals: unknown[] };
const proposals = recorded.proposals.map((p) => Proposal.parse(p));
const byName = (name: string) => proposals.find((p) => p.name === name)!;
const availability = byName("checkout POST /checkout availability");
const latency = byName("checkout POST /checkout latency");
const lcp = byName("frontend POST /api/checkout LCP");
const labels = { team: "payments", owner: "payments-oncall" };

const GOLDEN = join(FIXTURES, "golden/from-proposals/checkout.yml");

describe("proposal → Sloth spec", () => {
  const spec = specFromProposals("checkout", [availability, latency, lcp], { labels });

  it("matches the golden spec", () => {
    if (process.env.UPDATE_GOLDEN === "1") {
      mkdirSync(join(GOLDEN, ".."), { recursive: true });
      writeFileSync(GOLDEN, spec.content);
    }
    expect(existsSync(GOLDEN), `${GOLDEN} is missing; run with UPDATE_GOLDEN=1`).toBe(true);
    expect(spec.path).toBe("slos/checkout.yml");
    expect(spec.content).toBe(readFileSync(GOLDEN, "utf8"));
  });

  it("names SLOs by journey and measure, templated queries, labels, alert names and links", () => {
    expect(sloName(availability)).toBe("post-checkout-availability");
    expect(sloName(lcp)).toBe("frontend-post-api-checkout-lcp");
    expect(alertName("checkout", "post-checkout-latency")).toBe("CheckoutPostCheckoutLatency");
    const { slos, issues } = loadSpecs(spec.content, spec.path, { defaultPeriod: "28d" });
    expect(issues).toEqual([]);
    const slo = slos.find((s) => s.name === "post-checkout-availability")!;
    expect(slo.objective).toBe(availability.target.recommended);
    expect(slo.labels).toEqual(labels);
    expect(slo.alerting.labels).toEqual(labels);
    expect(slo.alerting.name).toBe("CheckoutPostCheckoutAvailability");
    expect(slo.alerting.annotations.runbook_url).toBe("runbooks/checkout/post-checkout-availability.md");
    expect(slo.alerting.annotations.dashboard_url).toBe("dashboards/checkout.json");
    expect(slo.alerting.page.labels.severity).toBe("page");
    if (!("events" in slo.sli)) throw new Error("expected an events SLI");
    expect(slo.sli.events.totalQuery).toBe(availability.sli.promql.total);
    expect(slo.sli.events.errorQuery).toContain("[{{.window}}]");
    expect(spec.content).not.toMatch(/\[5m\]/);
  });

  it("comments each SLO with its proposal, the targets considered and the evidence", () => {
    expect(spec.content).toContain(`# proposal ${availability.id}:`);
    expect(spec.content).toMatch(/# targets considered: recommended 99%, aspirational 99\.5%, safe 98%/);
    for (const e of availability.evidence) expect(spec.content).toContain(e.ref);
  });

  it("fills link templates per SLO", () => {
    const s = specFromProposals("checkout", [latency], {
      runbookUrl: "https://wiki.example.com/{service}/{slo}",
      dashboardUrl: "https://grafana.example.com/d/{id}",
    });
    const slo = loadSpecs(s.content, s.path).slos[0]!;
    expect(slo.alerting.annotations).toMatchObject({
      runbook_url: "https://wiki.example.com/checkout/post-checkout-latency",
      dashboard_url: "https://grafana.example.com/d/checkout-post-checkout-latency",
    });
  });
});

describe("merging into an existing spec", () => {
  const first = specFromProposals("checkout", [availability, latency], { labels });
  // A user tightened nothing by hand but added their own SLO, a label and comments.
  const edited = first.content
    .replace("labels:\n  team: payments", "labels:\n  tier: gold # kept by hand\n  team: payments")
    .concat(
      [
        "",
        "  # written by hand",
        "- name: cart-add-availability",
        "  objective: 99.5",
        "  sli:",
        "    events:",
        '      error_query: sum(rate(http_requests_total{service="checkout",code=~"5.."}[{{.window}}]))',
        '      total_query: sum(rate(http_requests_total{service="checkout"}[{{.window}}]))',
        "  alerting:",
        "    name: CartAdd",
        "",
      ].join("\n"),
    );

  it("replaces the SLO of the same name and keeps every other SLO, label and comment", () => {
    const stricter = { ...availability, target: { ...availability.target, recommended: 99.5 } };
    const merged = specFromProposals("checkout", [stricter, lcp], {
      labels: { ...labels, team: "other" },
      existing: edited,
    });
    const { slos, issues } = loadSpecs(merged.content, merged.path);
    expect(issues).toEqual([]);
    expect(slos.map((s) => s.name)).toEqual([
      "post-checkout-availability",
      "post-checkout-latency",
      "cart-add-availability",
      "frontend-post-api-checkout-lcp",
    ]);
    expect(slos[0]!.objective).toBe(99.5);
    expect(merged.content).toContain("tier: gold # kept by hand");
    expect(merged.content).toContain("# written by hand");
    expect(merged.content.match(new RegExp(`# proposal ${availability.id}`, "g"))).toHaveLength(1);
    // The user's label values win over the context's.
    expect((parseYaml(merged.content) as { labels: Record<string, string> }).labels.team).toBe("payments");
  });

  it("refuses a file that is not this service's Sloth spec, and proposals of another service", () => {
    expect(() => specFromProposals("cart", [availability])).toThrow(/is of checkout, not cart/);
    expect(() =>
      specFromProposals("checkout", [availability], {
        existing: "version: prometheus/v1\nservice: cart\nslos: []\n",
      }),
    ).toThrow(SpecMergeError);
    expect(() => specFromProposals("checkout", [availability], { existing: "a: [" })).toThrow(/cannot merge/);
  });
});

describe("round trip: spec → generate → validated rules", () => {
  it("generates rules, alerts, promtool tests and docs that pass the validators", async () => {
    const dir = mkdtempSync(join(tmpdir(), "slo-scout-from-proposals-"));
    const spec = specFromProposals("checkout", [availability, latency, lcp], { labels });
    mkdirSync(join(dir, "slos"));
    writeFileSync(join(dir, spec.path), spec.content);
    const out = join(dir, "out");
    const r = await cli([
      "generate",
      join(dir, spec.path),
      "-o",
      out,
      "--default-slo-period",
      "28d",
      "--docs",
    ]);
    expect(r.code, r.stderr).toBe(0);
    const rules = parseYaml(readFileSync(join(out, "checkout.rules.yml"), "utf8")) as {
      groups: { rules: { alert?: string; labels?: Record<string, string> }[] }[];
    };
    const alerts = rules.groups.flatMap((g) => g.rules).filter((x) => x.alert);
    expect(new Set(alerts.map((a) => a.alert))).toEqual(
      new Set([
        "CheckoutPostCheckoutAvailability",
        "CheckoutPostCheckoutLatency",
        "CheckoutFrontendPostApiCheckoutLcp",
      ]),
    );
    expect(alerts.every((a) => a.labels?.team === "payments")).toBe(true);
    expect(existsSync(join(out, "runbooks/checkout/post-checkout-availability.md"))).toBe(true);
  }, 120_000);
});
