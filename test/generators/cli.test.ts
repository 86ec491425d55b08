import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ruleFileErrors } from "../../src/generators/validate/index.js";
import { cli, FIXTURES, promtool, SPECS } from "./helpers.js";

const work = mkdtempSync(join(tmpdir(), "slo-scout-cli-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const bin = promtool();

describe("slo-scout generate", { timeout: 120_000 }, () => {
  it("prints the rules to stdout without --out, as one YAML document per spec file", async () => {
    const res = await cli([
      "generate",
      join(SPECS, "checkout-events.yml"),
      "--extra-labels",
      "env=prod",
      "-l",
      "team=web",
    ]);
    expect(res.code, res.stderr).toBe(0);
    const doc = parse(res.stdout) as {
      groups: { name: string; rules: { labels?: Record<string, string> }[] }[];
    };
    expect(doc.groups.map((g) => g.name)).toContain("sloth-slo-alerts-checkout-requests-availability");
    // --extra-labels win over the spec's labels on recording rules.
    expect(doc.groups[0]!.rules[0]!.labels).toMatchObject({ env: "prod", team: "web" });
  });

  it("writes rules and their tests with --out, and handles multi-document and mixed-format input", async () => {
    const input = join(work, "mixed.yml");
    writeFileSync(
      input,
      `${readFileSync(join(SPECS, "search-raw.yml"), "utf8")}\n---\n${readFileSync(join(SPECS, "payments-openslo-v1.yml"), "utf8")}`,
    );
    const out = join(work, "mixed-out");
    const res = await cli([
      "generate",
      "-i",
      input,
      "-o",
      out,
      "--alert-annotation",
      "runbook_url=https://rb.example.com/{service}/{slo}",
    ]);
    expect(res.code, res.stderr).toBe(0);
    const rules = readFileSync(join(out, "mixed.rules.yml"), "utf8");
    expect(rules).toContain("sloth-slo-sli-recordings-search-query-errors");
    expect(rules).toContain("sloth-slo-alerts-payments-payments-availability");
    expect(rules).toContain("runbook_url: https://rb.example.com/payments/payments-availability");
    expect(existsSync(join(out, "mixed.rules.test.yml"))).toBe(true);
  });

  it("takes -o FILE like Sloth (tests beside it, referencing it) and -o - for stdout", async () => {
    const target = join(work, "as-file", "slos.yaml");
    const res = await cli(["generate", join(SPECS, "cart-guarded.yml"), "-o", target]);
    expect(res.code, res.stderr).toBe(0);
    expect(readFileSync(target, "utf8")).toContain("alert: CartAddErrors");
    const tests = parse(readFileSync(join(work, "as-file", "slos.test.yml"), "utf8")) as {
      rule_files: string[];
    };
    expect(tests.rule_files).toEqual(["slos.yaml"]);
    const dash = await cli(["generate", join(SPECS, "cart-guarded.yml"), "-o", "-"]);
    expect(dash.stdout).toContain("alert: CartAddErrors");
  });

  it("refuses a bad spec with file:line and writes nothing", async () => {
    const input = join(work, "bad.yml");
    writeFileSync(
      input,
      readFileSync(join(SPECS, "checkout-events.yml"), "utf8").replace("objective: 99.9", "objective: 101"),
    );
    const out = join(work, "bad-out");
    const res = await cli(["generate", input, "--out", out]);
    expect(res.code).toBe(1);
    const line = readFileSync(input, "utf8").split("\n").indexOf("    objective: 101") + 1;
    expect(res.stderr).toContain(`${input}:${line}: slos[0].objective: must be > 0 and <= 100`);
    expect(existsSync(out)).toBe(false);
  });

  it("refuses duplicate SLOs across documents", async () => {
    const input = join(work, "dup.yml");
    const spec = readFileSync(join(SPECS, "cart-guarded.yml"), "utf8");
    writeFileSync(input, `${spec}\n---\n${spec}`);
    const res = await cli(["generate", input]);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/SLO cart-add-to-cart is defined twice/);
  });

  it("rejects bad flags with the usage", async () => {
    expect((await cli(["generate"])).code).toBe(2);
    const res = await cli(["generate", join(SPECS, "cart-guarded.yml"), "--default-slo-period", "a month"]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/--default-slo-period must be a duration/);
    expect(
      (await cli(["generate", join(SPECS, "cart-guarded.yml"), "--extra-labels", "novalue"])).stderr,
    ).toMatch(/key=value/);
  });

  it("explains when the low-traffic guard cannot count events", async () => {
    const res = await cli(["generate", join(SPECS, "search-raw.yml"), "--min-events", "100"]);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/low-traffic guard \(min events\) needs an events SLI/);
  });
});

describe("slo-scout validate", { timeout: 120_000 }, () => {
  it("passes the golden artifacts (specs, rules and rule tests)", async () => {
    const res = await cli(["validate", join(FIXTURES, "golden")]);
    expect(res.stderr.split("\n").filter((l) => l && !l.startsWith("note:"))).toEqual([]);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^ok: checked 5 slo-spec, 6 rules, 6 rule-tests/);
  });

  it.skipIf(!bin)("fails with file:line messages for a broken rule file and its failing tests", async () => {
    const dir = join(work, "broken");
    cpSync(join(FIXTURES, "golden"), dir, { recursive: true });
    const file = join(dir, "search-raw.rules.yml");
    const lines = readFileSync(file, "utf8").split("\n");
    const target = lines.findIndex((l) => l.includes("(6 * 0.005)"));
    lines[target] = lines[target]!.replace("(6 * 0.005)", "(6 * 0.005");
    writeFileSync(file, lines.join("\n"));
    const checkout = join(dir, "checkout-events.rules.yml");
    writeFileSync(checkout, readFileSync(checkout, "utf8").replaceAll("(14.4 * 0.01)", "(1.44 * 0.01)"));
    const res = await cli(["validate", dir]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(
      `search-raw.rules.yml:${target + 1}: alert SearchQueryErrors: PromQL does not parse`,
    );
    expect(res.stderr).toMatch(
      /search-raw\.rules\.yml:\d+: group "sloth-slo-alerts-search-query-errors", rule 1/,
    );
    expect(res.stderr).toMatch(
      /checkout-events\.rules\.test\.yml:\d+: alert CheckoutLatency at 15m \(page quick pair \(5m\/1h\) just below its 14\.4x factor\)/,
    );
    expect(res.stdout).toMatch(/^FAILED/);
  });

  it("points at the line of a structural mistake", () => {
    const text =
      "groups:\n- name: g\n  rules:\n  - record: bad name\n    expr: up\n  - alert: A\n    expr: up\n    for: soon\n";
    expect(ruleFileErrors({ path: "r.yml", display: "r.yml", text })).toEqual([
      'r.yml:4: "bad name" is not a valid metric name',
      'r.yml:8: alert A: for "soon" is not a duration',
    ]);
  });

  it("refuses a multi-document rule file, whose later documents Prometheus would ignore", () => {
    const doc = "groups:\n- name: g\n  rules:\n  - record: a:b\n    expr: up\n";
    expect(
      ruleFileErrors({
        path: "r.yml",
        display: "r.yml",
        text: `${doc}---\n${doc.replace("name: g", "name: h")}`,
      }),
    ).toEqual([
      "r.yml:6: Prometheus reads only the first YAML document of a rule file; the rules in the 1 later document(s) would be ignored (one document per file)",
    ]);
  });

  it("fails on a directory with nothing to validate, and on a missing path", async () => {
    const empty = mkdtempSync(join(work, "empty-"));
    expect((await cli(["validate", empty])).code).toBe(1);
    expect((await cli(["validate", join(work, "nope")])).code).toBe(1);
  });
});
