import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { registry } from "../../src/observability/metrics.js";
import { cli } from "../generators/helpers.js";

/**
 * The job users come for, walked as a user would on the CLI: demo telemetry in, `chat "analyze checkout"`,
 * `chat "approve …"`, and a branch in the local repository whose one commit holds the spec and every
 * artifact; the commit validates, regenerates byte for byte from its spec, and blast radius names the
 * service, its journeys and a page estimate.
 */

const git = (repo: string, ...args: string[]) =>
  execFileSync("git", ["-C", repo, ...args], { encoding: "utf8" });

describe("the main job: proposal → approved spec → validated artifacts → a change", {
  timeout: 300_000,
}, () => {
  let dir: string;
  let repo: string;
  let analysis = "";

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "slo-scout-main-job-"));
    repo = join(dir, "repo");
    vi.stubEnv("DATABASE_URL", `pglite://${join(dir, "db")}`);
    vi.stubEnv("BLOB_URL", `file://${join(dir, "blobs")}`);
    vi.stubEnv("SLO_SCOUT_REPO", repo);
    vi.stubEnv("PROMETHEUS_URL", "");
    vi.stubEnv("OPENAI_BASE_URL", "");
    vi.stubEnv("OPENAI_API_KEY", "");
    const ingest = await cli(["ingest", "--demo", "--days", "8"]);
    expect(ingest.code, ingest.stderr).toBe(0);
    const analyzed = await cli(["chat", "analyze checkout"]);
    expect(analyzed.code, analyzed.stdout + analyzed.stderr).toBe(0);
    analysis = analyzed.stdout;
  }, 300_000);
  afterAll(() => {
    vi.unstubAllEnvs();
    rmSync(dir, { recursive: true, force: true });
  });

  it("replies to analyze with the journeys, proposals and the command to approve them", async () => {
    expect(analysis).toMatch(/checkout/);
    // SLO-Scout's own analysis SLO counts it as done.
    const counted = await registry.getSingleMetric("slo_scout_analyses_total")?.get();
    expect(counted?.values.find((v) => v.labels.outcome === "done")?.value).toBe(1);
    expect(analysis).toMatch(/```mermaid/);
    expect(analysis).toMatch(/slo-scout chat "approve prop-[0-9a-f]{12}/);
  });

  it("refuses what it must, and writes nothing then", async () => {
    const unknown = await cli(["chat", "approve prop-000000000000"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toMatch(/no proposal prop-000000000000/);
    const typo = await cli(["chat", "aprove all"]);
    expect(typo.code).toBe(1);
    expect(typo.stdout).toMatch(/approve/);
    const help = await cli(["chat", "help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/simulate <proposal-id> --target/);
    expect(() => git(repo, "rev-parse", "--verify", "slo-scout/checkout")).toThrow();
  });

  it("approves checkout's availability and latency into one commit on slo-scout/checkout that validates and regenerates", async () => {
    const ids = ["availability", "latency"].map(
      (kind) => new RegExp(`\`(prop-[0-9a-f]{12})\` checkout POST /checkout ${kind}`).exec(analysis)?.[1],
    );
    expect(ids.every(Boolean), analysis.slice(0, 2000)).toBe(true);
    // The aspirational target: the recommended ones would not have paged on this history, by design.
    const approved = await cli(["chat", `approve ${ids.join(" ")} --target 99.5`]);
    expect(approved.code, approved.stdout + approved.stderr).toBe(0);
    expect(approved.stdout).toMatch(/slo-scout\/checkout/);

    expect(git(repo, "rev-list", "--count", "main..slo-scout/checkout").trim()).toBe("1");
    const files = git(repo, "ls-tree", "-r", "--name-only", "slo-scout/checkout").trim().split("\n");
    expect(files).toEqual(
      expect.arrayContaining([
        "slos/checkout.yml",
        "rules/checkout.rules.yml",
        "rules/checkout.rules.test.yml",
        "dashboards/checkout.json",
      ]),
    );
    expect(files.some((f) => /^runbooks\/checkout\/.+\.md$/.test(f))).toBe(true);

    const tree = join(dir, "tree");
    for (const f of files) {
      const target = join(tree, f);
      execFileSync("mkdir", ["-p", join(target, "..")]);
      writeFileSync(target, git(repo, "show", `slo-scout/checkout:${f}`));
    }
    const validated = await cli(["validate", tree]);
    expect(validated.code, validated.stdout + validated.stderr).toBe(0);

    const regenerated = join(dir, "regenerated");
    const gen = await cli([
      "generate",
      join(tree, "slos/checkout.yml"),
      "--default-slo-period",
      "28d",
      "-o",
      regenerated,
    ]);
    expect(gen.code, gen.stderr).toBe(0);
    for (const f of ["checkout.rules.yml", "checkout.rules.test.yml"]) {
      expect(execFileSync("cat", [join(regenerated, f)], { encoding: "utf8" })).toBe(
        git(repo, "show", `slo-scout/checkout:rules/${f}`),
      );
    }

    execFileSync("mkdir", ["-p", join(dir, "empty")]);
    const blast = await cli(["blast-radius", tree, "--against", join(dir, "empty"), "--history", "28d"]);
    expect(blast.stdout).toMatch(/Services covered: checkout/);
    expect(blast.stdout).toMatch(/Journeys covered: .*checkout/);
    const pages = Number(/Expected pages per month \(dry-run\): ([\d.]+)/.exec(blast.stdout)?.[1]);
    expect(pages).toBeGreaterThan(0);
  });

  it("refuses a second decision on the same proposals", async () => {
    const ids = [...new Set(analysis.match(/prop-[0-9a-f]{12}/g) ?? [])];
    const again = await cli(["chat", `approve ${ids[0]}`]);
    expect(again.code).toBe(1);
    expect(again.stdout).toMatch(/already committed/);
    const reject = await cli(["chat", `reject ${ids[0]} too noisy`]);
    expect(reject.code).toBe(1);
  });
});
