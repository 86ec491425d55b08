import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildChangeSet } from "../../src/app/change-set.js";
import { type AppContext, openApp } from "../../src/app/context.js";
import { review, specPeriod } from "../../src/app/review.js";
import { ConfigSchema } from "../../src/config.js";
import { FIXTURES } from "../generators/helpers.js";

/** A spec as SLO-Scout writes it (header names its period), recorded from the demo shop's proposals. */
const spec = {
  path: "slos/checkout.yml",
  content: readFileSync(join(FIXTURES, "golden/from-proposals/checkout.yml"), "utf8"),
};

describe("review: a change that edits SLO files, checked like a plan", { timeout: 120_000 }, () => {
  let dir: string;
  let app: AppContext;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "slo-scout-review-"));
    app = await openApp(
      ConfigSchema.parse({ DATABASE_URL: "pglite://memory", SLO_SCOUT_REPO: join(dir, "repo") }),
      { logger: pino({ level: "silent" }) },
    );
  });
  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const generated = () => {
    const built = buildChangeSet("checkout", spec, { period: specPeriod(spec.content) });
    if (!built.ok) throw new Error(built.refusal.reason);
    return built.value.files;
  };

  it("reads the period a spec was approved on from its header, Sloth's default otherwise", () => {
    expect(specPeriod(spec.content)).toBe("28d");
    expect(specPeriod("version: prometheus/v1\nservice: x\nslos: []\n")).toBe("30d");
  });

  it("passes a spec whose rules were regenerated from it", async () => {
    const r = await review(app, generated());
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.regeneration).toEqual([
      {
        spec: "slos/checkout.yml",
        service: "checkout",
        period: "28d",
        files: [
          { path: "rules/checkout.rules.yml", status: "current" },
          { path: "rules/checkout.rules.test.yml", status: "current" },
        ],
      },
    ]);
    expect(r.value.assessment.validation.ok).toBe(true);
    expect(r.value.assessment.violations).toEqual([]);
    expect(r.value.assessment.blastRadius.services).toEqual(["checkout"]);
    expect(r.value.ok).toBe(true);
  });

  it("finds a hand-edited spec whose rules were not regenerated, and reviews what regeneration gives", async () => {
    const files = generated();
    const edited = { ...spec, content: spec.content.replace(/objective: 99(\.\d+)?/, "objective: 99.95") };
    expect(edited.content).not.toBe(spec.content);
    const r = await review(app, [edited, ...files.filter((f) => f.path !== spec.path)]);
    if (!r.ok) throw new Error(r.refusal.reason);
    expect(r.value.ok).toBe(false);
    expect(r.value.regeneration[0]!.files.map((f) => f.status)).toContain("stale");
    expect(r.value.assessment.validation.ok).toBe(true);
  });

  it("says which rule files a spec alone is missing", async () => {
    const r = await review(app, [spec]);
    if (!r.ok) throw new Error(r.refusal.reason);
    expect(r.value.regeneration[0]!.files.map((f) => f.status)).toEqual(["missing", "missing"]);
    expect(r.value.ok).toBe(false);
  });

  it("refuses a spec that does not load, with file:line messages", async () => {
    const r = await review(app, [
      {
        path: "slos/checkout.yml",
        content: "version: prometheus/v1\nservice: checkout\nslos:\n  - name: x\n",
      },
    ]);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.refusal.code).toBe("validation-failed");
    expect(r.refusal.details?.join("\n")).toMatch(/slos\/checkout\.yml/);
  });

  it("names files the repository's policy does not allow", async () => {
    const r = await review(app, [...generated(), { path: "ci/deploy.yml", content: "steps: []\n" }]);
    if (!r.ok) throw new Error(r.refusal.reason);
    expect(r.value.assessment.violations.map((v) => v.rule)).toContain("allowed-paths");
    expect(r.value.ok).toBe(false);
  });
});
