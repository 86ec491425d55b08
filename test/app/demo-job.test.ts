import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AppContext, openApp } from "../../src/app/context.js";
import { type DemoJobResult, demoJobAllowed, demoJobWanted, runDemoJob } from "../../src/app/demo-job.js";
import { type Config, loadConfig } from "../../src/config.js";
import { DEMO_DEFAULT_END } from "../../src/demo/index.js";
import type { Pipeline } from "../../src/pipeline/run.js";
import { startConfiguredPipeline } from "../../src/pipeline/worker.js";

/**
 * The first `npm start`'s demo job on the demo shop (a week of it with another seed; a week is the least
 * the analysis proposes from), against the embedded stores in a temporary DATA_DIR and a temporary local
 * repository: the stream stage stores what the job loads, the job analyses and approves through the
 * conversation, and the branch holds one commit with every artifact. A second start on the same data
 * directory does not run it again.
 */

const git = (repo: string, ...args: string[]) =>
  execFileSync("git", ["-C", repo, ...args], { encoding: "utf8" });

describe("the demo job of the first start", { timeout: 240_000 }, () => {
  let dir: string;
  let config: Config;
  let printed = "";
  let result: DemoJobResult;

  /** The app with the stream stage running on its bus, as `serve` has them. */
  async function start(): Promise<{ app: AppContext; pipeline: Pipeline }> {
    const app = await openApp(config, { logger: pino({ level: "silent" }) });
    const pipeline = await startConfiguredPipeline(config, {
      bus: await app.bus(),
      sql: app.sql,
      blobs: await app.blobs(),
      vectors: await app.vectors(),
    });
    return { app, pipeline };
  }

  async function stop({ app, pipeline }: { app: AppContext; pipeline: Pipeline }) {
    await pipeline.stop();
    await app.close();
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "slo-scout-demo-job-"));
    config = loadConfig(
      { DATA_DIR: join(dir, "data"), SLO_SCOUT_REPO: join(dir, "repo"), LOG_LEVEL: "silent" },
      join(dir, "none.yml"),
    );
    const first = await start();
    try {
      expect(await demoJobWanted(first.app)).toBe(true);
      result = await runDemoJob(first.app, {
        write: (text) => {
          printed += text;
        },
        drain: () => first.pipeline.drain(),
        baseUrl: "http://127.0.0.1:3000",
        seed: 7,
        end: DEMO_DEFAULT_END,
      });
    } finally {
      await stop(first);
    }
  }, 240_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("prints the conversation and names the branch", () => {
    expect(printed).toMatch(/loading demo telemetry: \d+% /);
    expect(printed).toMatch(/stored [\d,]+ events in \d+ s/);
    expect(printed).toMatch(/\$ slo-scout chat "analyze checkout"/);
    expect(printed).toMatch(/\$ slo-scout chat "approve prop-[0-9a-f]{12} prop-[0-9a-f]{12}"/);
    expect(result.branch).toBe("slo-scout/checkout");
    expect(printed).toContain(`git -C ${join(dir, "repo")} show --stat slo-scout/checkout`);
    expect(printed).toMatch(/send your own telemetry/);
  });

  it("approves the availability and latency proposals into one commit holding every artifact", () => {
    const repo = join(dir, "repo");
    expect(result.approved).toHaveLength(2);
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
    expect(files.filter((f) => /^runbooks\/checkout\/.+\.md$/.test(f)).length).toBeGreaterThanOrEqual(2);
  });

  it("does not run again on the second start", async () => {
    const second = await start();
    try {
      expect(await demoJobWanted(second.app)).toBe(false);
    } finally {
      await stop(second);
    }
  });

  it("never runs when the demo is off or the database is configured", () => {
    const none = join(dir, "none.yml");
    expect(demoJobAllowed(loadConfig({ DATA_DIR: "/srv/data" }, none))).toBe(true);
    expect(demoJobAllowed(loadConfig({ DATA_DIR: "/srv/data", SLO_SCOUT_DEMO: "off" }, none))).toBe(false);
    for (const url of ["pglite:///srv/other", "postgres://postgres@127.0.0.1:5432/slo"]) {
      expect(demoJobAllowed(loadConfig({ DATA_DIR: "/srv/data", DATABASE_URL: url }, none))).toBe(false);
    }
  });

  it("names the key and the values a bad SLO_SCOUT_DEMO may take", () => {
    expect(() => loadConfig({ SLO_SCOUT_DEMO: "yes" }, join(dir, "none.yml"))).toThrow(
      /SLO_SCOUT_DEMO "yes" must be auto .* or off/,
    );
  });
});
