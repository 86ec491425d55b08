import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cli, slothCorpus } from "./helpers.js";

/**
 * Drop-in compatibility: on Sloth's own examples, `slo-scout generate` must produce rules that
 * rules-equivalent.py finds equivalent to what Sloth generated (names, labels, for, expressions).
 */

const corpus = slothCorpus();
const out = mkdtempSync(join(tmpdir(), "slo-scout-sloth-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

function equivalent(expected: string, actualDir: string): { ok: boolean; report: string } {
  try {
    const report = execFileSync("python3", [corpus!.tool, expected, actualDir], { encoding: "utf8" });
    return { ok: true, report };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return { ok: false, report: `${e.stdout ?? ""}${e.stderr ?? ""}` };
  }
}

describe.skipIf(!corpus)("Sloth corpus compatibility", { timeout: 180_000 }, () => {
  const specs = corpus ? readdirSync(join(corpus.dir, "specs")).filter((f) => /\.ya?ml$/.test(f)) : [];

  it("has specs to check", () => {
    expect(specs.length).toBeGreaterThan(0);
  });

  for (const spec of specs) {
    it(`generates rules equivalent to Sloth's for ${spec}`, async () => {
      const dir = join(out, basename(spec));
      const res = await cli([
        "generate",
        join(corpus!.dir, "specs", spec),
        "--out",
        dir,
        "--extra-labels",
        "cmd=examplesgen.sh",
      ]);
      expect(res.stderr).not.toMatch(/FAILED|failed/);
      expect(res.code).toBe(0);
      const { ok, report } = equivalent(join(corpus!.dir, "expected", spec), dir);
      expect(report).toMatch(/rules equivalent/);
      expect(ok, report).toBe(true);
    });
  }

  it("the equivalence check is not vacuous: a changed factor is caught", async () => {
    const spec = specs.find((s) => s.startsWith("multifile")) ?? specs[0]!;
    const dir = join(out, "mutant");
    await cli([
      "generate",
      join(corpus!.dir, "specs", spec),
      "--out",
      dir,
      "--extra-labels",
      "cmd=examplesgen.sh",
      "--default-slo-period",
      "28d",
    ]);
    const { ok, report } = equivalent(join(corpus!.dir, "expected", spec), dir);
    expect(ok).toBe(false);
    expect(report).toMatch(/missing or different/);
  });

  const invalid = corpus ? readdirSync(join(corpus.dir, "invalid")).filter((f) => /\.ya?ml$/.test(f)) : [];
  for (const spec of invalid) {
    it(`rejects Sloth's invalid spec ${spec}, naming the field and line`, async () => {
      const file = join(corpus!.dir, "invalid", spec);
      const res = await cli(["generate", file, "--out", join(out, `bad-${spec}`)]);
      expect(res.code).toBe(1);
      const line =
        readFileSync(file, "utf8")
          .split("\n")
          .findIndex((l) => /objective: 101/.test(l)) + 1;
      expect(res.stderr).toContain(`${file}:${line}: slos[1].objective: must be > 0 and <= 100`);
      expect(res.stderr).toMatch(/nothing generated/);
    });
  }

  it("accepts Sloth's custom alert-window catalog (7d and custom 30d)", async () => {
    const windows = join(corpus!.dir, "windows");
    const spec = join(corpus!.dir, "specs", specs.find((s) => s.startsWith("home-wifi")) ?? specs[0]!);
    const week = await cli([
      "generate",
      spec,
      "--slo-period-windows-path",
      windows,
      "--default-slo-period",
      "7d",
    ]);
    expect(week.code, week.stderr).toBe(0);
    expect(week.stdout).toContain("record: slo:sli_error:ratio_rate1w");
    expect(week.stdout).toContain("vector(7)");
    const custom = await cli(["generate", spec, "--slo-period-windows-path", windows]);
    expect(custom.code, custom.stderr).toBe(0);
    expect(custom.stdout).toContain("slo:sli_error:ratio_rate1d12h");
    expect(custom.stdout).toContain("slo:sli_error:ratio_rate2m");
    const missing = await cli([
      "generate",
      spec,
      "--slo-period-windows-path",
      windows,
      "--default-slo-period",
      "28d",
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/4w SLO period has no alert windows/);
  });
});
