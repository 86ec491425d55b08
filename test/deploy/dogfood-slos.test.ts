import { appendFileSync, cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import "../../src/app/analyze.js";
import { WEBHOOK_PATH } from "../../src/bot/github/route.js";
import { GITLAB_WEBHOOK_PATH } from "../../src/bot/gitlab/webhooks.js";
import { FastifyReceiver } from "../../src/bot/slack/receiver.js";
import { checkRules, testRules } from "../../src/generators/validate/promtool.js";
import { registry } from "../../src/observability/metrics.js";
import { ingestMetrics } from "../../src/pipeline/receivers/metrics.js";
import "../../src/server/metrics.js";
import { cli, promtool, ROOT } from "../generators/helpers.js";
import { compareGenerated, staleMessage } from "./generated-files.js";

/**
 * SLO-Scout's own SLOs (deploy/slo/slo-scout.yml): what is committed under deploy/prometheus is exactly
 * what `npm run dogfood:generate` writes, it passes promtool, and the spec reads metrics the server
 * really exports.
 */

const SCRIPT = "dogfood:generate";
const COMMAND = `npm run ${SCRIPT}`;
const bin = promtool();

/** The npm script's `generate` arguments with its output sent to `outDir`; the folder it writes to. */
function regeneration(outDir: string): { args: string[]; spec: string; committed: string } {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
    scripts: Record<string, string>;
  };
  const [node, cliPath, ...args] = (pkg.scripts[SCRIPT] ?? "").split(/\s+/);
  if (node !== "node" || cliPath !== "bin/slo-scout.js" || args[0] !== "generate" || !args[1])
    throw new Error(`${SCRIPT} must run \`node bin/slo-scout.js generate <spec> … --out <dir>\``);
  const out = args.indexOf("--out") + 1;
  if (out === 0 || !args[out]) throw new Error(`${SCRIPT} must name its output with --out`);
  return {
    args: args.map((a, i) => (i === out ? outDir : i === 1 ? resolve(ROOT, a) : a)),
    spec: resolve(ROOT, args[1]),
    committed: resolve(ROOT, args[out]),
  };
}

/** What `generate --docs` writes; anything else in the folder (a Prometheus config) is not its business. */
const generatorWrites = (path: string) =>
  /^[^/]+\.rules(\.test)?\.yml$/.test(path) || path.startsWith("dashboards/") || path.startsWith("runbooks/");

describe("SLO-Scout's own SLOs", () => {
  const fresh = mkdtempSync(join(tmpdir(), "slo-scout-dogfood-"));
  const { args, spec, committed } = regeneration(fresh);
  afterAll(() => rmSync(fresh, { recursive: true, force: true }));

  beforeAll(async () => {
    const res = await cli(args);
    expect(res.code, res.stderr).toBe(0);
  }, 60_000);

  it("are committed as their spec generates them (rules, rule tests, dashboard, runbooks)", () => {
    const diffs = compareGenerated(fresh, committed, generatorWrites);
    expect(diffs, staleMessage(relative(ROOT, committed), diffs, COMMAND)).toEqual([]);
  });

  it("would fail that comparison, naming the command, if a generated file were edited by hand", () => {
    const edited = `${fresh}-edited`;
    cpSync(fresh, edited, { recursive: true });
    try {
      const rules = readdirSync(edited).find((f) => f.endsWith(".rules.yml"))!;
      appendFileSync(join(edited, rules), "# tuned by hand\n");
      const diffs = compareGenerated(fresh, edited, generatorWrites);
      expect(diffs).toEqual([{ path: rules, problem: "stale" }]);
      expect(staleMessage("deploy/prometheus", diffs, COMMAND)).toContain(`run \`${COMMAND}\``);
    } finally {
      rmSync(edited, { recursive: true, force: true });
    }
  });

  const rulesFiles = (suffix: string) =>
    readdirSync(committed)
      .filter((f) => f.endsWith(suffix))
      .map((f) => join(committed, f));

  it.skipIf(!bin)("pass promtool check rules and promtool test rules", async () => {
    const rules = rulesFiles(".rules.yml");
    const tests = rulesFiles(".rules.test.yml");
    expect(rules.length).toBeGreaterThan(0);
    expect(tests.length).toBeGreaterThan(0);
    const check = await checkRules(rules, bin);
    expect(check.ok, check.output).toBe(true);
    const run = await testRules(tests, bin);
    expect(run.ok, run.output).toBe(true);
  });

  it("read metrics the server registers, with their label names and histogram buckets", () => {
    ingestMetrics(registry);
    const doc = parse(readFileSync(spec, "utf8")) as {
      slos: { name: string; sli: { events: { error_query: string; total_query: string } } }[];
    };
    const routes = new Set<string>();
    for (const slo of doc.slos) {
      for (const query of [slo.sli.events.error_query, slo.sli.events.total_query]) {
        for (const [, name, matchers] of query.matchAll(/(slo_scout_\w+)(?:\{([^}]*)\})?/g)) {
          const metric = registry.getSingleMetric(name!.replace(/_(bucket|count|sum)$/, ""));
          expect(metric, `${slo.name}: ${name} is not on /metrics`).toBeDefined();
          // prom-client keeps these on the metric without typing them.
          const { labelNames, upperBounds } = metric as unknown as {
            labelNames: string[];
            upperBounds?: number[];
          };
          for (const [, label, , value] of (matchers ?? "").matchAll(/(\w+)\s*(=~|!~|!=|=)\s*"([^"]*)"/g)) {
            if (label === "le") {
              expect(upperBounds, `${slo.name}: ${name} has no bucket le="${value}"`).toContain(
                Number(value),
              );
            } else {
              expect(labelNames, `${slo.name}: ${name} has no label ${label}`).toContain(label);
            }
            if (label === "route") for (const r of value!.split("|")) routes.add(r);
          }
        }
      }
    }
    const slack = new FastifyReceiver({ signingSecret: "unused", logger: pino({ level: "silent" }) });
    expect([...routes].sort()).toEqual([WEBHOOK_PATH, GITLAB_WEBHOOK_PATH, slack.path].sort());
  });
});
