import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readTree } from "../../src/commands/blast-radius.js";
import type { Journey } from "../../src/core/journey.js";
import { blastRadius } from "../../src/governance/blast-radius.js";
import { checkApproval, checkArtifacts } from "../../src/governance/guard.js";
import { DEFAULT_POLICY, loadPolicy, PolicyError, parsePolicy } from "../../src/governance/policy.js";
import { parseAlertmanagerConfig } from "../../src/governance/routes.js";

const FIXTURES = join(import.meta.dirname, "../fixtures/governance");
const repo = join(FIXTURES, "repo");
const changes = readTree(join(FIXTURES, "change"));
const existing = readTree(repo);
const { policy } = loadPolicy(repo);

const checkoutJourney: Journey = {
  key: "checkout POST /checkout",
  service: "checkout",
  entrySpans: ["POST /checkout"],
  downstream: [
    {
      from: "checkout",
      to: "payment",
      operation: "Payment/Charge",
      calls: 10,
      errorShare: 0,
      p50Ms: 5,
      p95Ms: 9,
    },
    {
      from: "checkout",
      to: "inventory",
      operation: "POST /stock/reserve",
      calls: 10,
      errorShare: 0,
      p50Ms: 5,
      p95Ms: 9,
    },
  ],
  signature: "s",
  trafficShare: 0.5,
  requests: 10,
  errorShare: 0,
  depth: 2,
  userFacing: true,
  score: 1,
  exampleTraceIds: [],
};

describe("policy file", () => {
  it("reads the repository's policy and falls back to the built-in one", () => {
    expect(policy.requireSecondApprover).toBe(true);
    expect(loadPolicy(FIXTURES).policy).toEqual(DEFAULT_POLICY);
  });

  it("names the key and the file of a bad policy", () => {
    expect(() => parsePolicy("maxPagesPer28d: lots", "p.yml")).toThrow(PolicyError);
    expect(() => parsePolicy("maxPagesPer28d: lots", "p.yml")).toThrow(/p\.yml line 1: maxPagesPer28d/);
    expect(() => parsePolicy("alowedPaths: []", "p.yml")).toThrow(/alowedPaths/);
  });
});

describe("policy guard", () => {
  it("lets a compliant change set through", () => {
    const ok = changes.filter((c) => c.path.endsWith("checkout.yml"));
    expect(checkArtifacts(policy, ok, { pagesPer28d: { checkout: 2 } })).toEqual([]);
  });

  it("refuses a forbidden path, a missing required label and too many pages, naming each rule", () => {
    const forbidden = [
      ...changes,
      { path: "secrets/creds.yml", content: "x: 1" },
      { path: "../escape.yml", content: "" },
    ];
    const v = checkArtifacts(policy, forbidden, { pagesPer28d: { checkout: 9, inventory: 1 } });
    expect(v.map((x) => x.rule).sort()).toEqual([
      "allowed-paths",
      "allowed-paths",
      "max-pages",
      "required-labels",
    ]);
    expect(v.find((x) => x.rule === "required-labels")?.message).toMatch(
      /InventoryReserveLatency lacks the required label team/,
    );
    expect(v.find((x) => x.rule === "max-pages")?.message).toMatch(
      /checkout would have paged 9 times.*at most 4/,
    );
  });

  it("refuses a severity the policy does not allow", () => {
    const strict = { ...policy, allowedSeverities: ["page"] };
    const v = checkArtifacts(strict, changes);
    expect(v.some((x) => x.rule === "allowed-severities" && /severity "ticket"/.test(x.message))).toBe(true);
  });
});

describe("approvals", () => {
  it("requires a second approver when the requester approved alone", () => {
    expect(checkApproval(policy, "alice", [{ id: "alice" }]).map((v) => v.rule)).toEqual(["second-approver"]);
    expect(checkApproval(policy, "alice", [{ id: "alice" }, { id: "bob" }])).toEqual([]);
  });

  it("accepts team members and refuses people outside the approver lists", () => {
    expect(checkApproval(policy, "alice", [{ id: "carol", teams: ["sre"] }])).toEqual([]);
    expect(checkApproval(policy, "alice", [{ id: "mallory" }]).map((v) => v.rule)).toEqual([
      "approvers",
      "approvers",
    ]);
  });

  it("matches a Slack user by user id or by the e-mail Slack vouches for", () => {
    const slack = parsePolicy("approvers:\n  users: [dana@example.com]\n  slackUserIds: [U0SRE]\n");
    expect(checkApproval(slack, "U0SRE", [{ id: "U0SRE" }])).toEqual([]);
    expect(checkApproval(slack, "U0DANA", [{ id: "U0DANA", aliases: ["dana@example.com"] }])).toEqual([]);
    expect(checkApproval(slack, "U0EVE", [{ id: "U0EVE", aliases: ["eve@example.com"] }])).not.toEqual([]);
  });

  it("lets anyone approve under the default policy, once", () => {
    expect(checkApproval(DEFAULT_POLICY, "alice", [{ id: "alice" }])).toEqual([]);
    expect(checkApproval(DEFAULT_POLICY, "alice", [])).toHaveLength(1);
  });
});

describe("blast radius against a repository that already holds rules", () => {
  const router = parseAlertmanagerConfig(readFileSync(join(repo, "alertmanager.yml"), "utf8"));
  const report = blastRadius({
    changes,
    existing,
    journeys: [checkoutJourney],
    router,
    pagesPer28d: { checkout: 2.8 },
  });

  it("diffs alerts by name, SLO and severity", () => {
    expect(report.files).toEqual([
      { path: "monitoring/slo/checkout.yml", status: "modified" },
      { path: "monitoring/slo/inventory.yml", status: "added" },
    ]);
    expect(report.alerts.added.map((a) => a.alert)).toEqual(["InventoryReserveLatency"]);
    expect(report.alerts.changed.map((a) => `${a.alert}/${a.severity}`)).toEqual([
      "CheckoutAvailability/page",
    ]);
    expect(report.alerts.removed.map((a) => a.alert)).toEqual(["CheckoutLegacyErrors"]);
    expect(report.alerts.unchanged).toBe(1);
  });

  it("names the services, journeys, downstream dependents and expected pages", () => {
    expect(report.services).toEqual(["checkout", "inventory"]);
    expect(report.journeys).toEqual(["checkout POST /checkout"]);
    expect(report.dependents).toEqual(["payment"]);
    expect(report.pagesPerMonth).toBeCloseTo(3, 5);
  });

  it("routes each alert through the Alertmanager tree to its receiver", () => {
    const byReceiver = Object.fromEntries(report.routes.map((r) => [r.receiver, r.alerts]));
    expect(byReceiver).toEqual({
      "payments-pagerduty": ["CheckoutAvailability"],
      jira: ["CheckoutAvailability"],
      "oncall-pagerduty": ["InventoryReserveLatency"],
    });
  });
});

describe("alertmanager routing", () => {
  it("follows continue, regex matchers and receiver inheritance", () => {
    const r = parseAlertmanagerConfig(`
route:
  receiver: root
  routes:
    - matchers: ['team=~"pay.*"']
      continue: true
      routes:
        - matchers: ['severity!="page"']
          receiver: slack
    - match_re: { service: "check.*" }
      receiver: checkout-oncall
`);
    expect(
      r.route({ team: "payments", severity: "ticket", service: "checkout" }).map((m) => m.receiver),
    ).toEqual(["slack", "checkout-oncall"]);
    expect(r.route({ team: "payments", severity: "page" }).map((m) => m.receiver)).toEqual(["root"]);
    expect(r.route({ team: "web" }).map((m) => m.receiver)).toEqual(["root"]);
  });
});
