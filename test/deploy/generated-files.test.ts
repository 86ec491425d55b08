import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { compareGenerated, staleMessage } from "./generated-files.js";

const root = mkdtempSync(join(tmpdir(), "slo-scout-generated-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function tree(name: string, files: Record<string, string>): string {
  const dir = join(root, name);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

const owned = (path: string) => path.endsWith(".rules.yml") || path.startsWith("runbooks/");
const generated = { "a.rules.yml": "groups: []\n", "runbooks/a/x.md": "# x\n" };

describe("compareGenerated", () => {
  it("finds nothing when every generated file is committed as is, whatever else the folder holds", () => {
    const fresh = tree("fresh-1", generated);
    const committed = tree("committed-1", { ...generated, "prometheus.yml": "global: {}\n" });
    expect(compareGenerated(fresh, committed, owned)).toEqual([]);
  });

  it("names a changed byte, a file not committed and a committed one nothing generates", () => {
    const fresh = tree("fresh-2", generated);
    const committed = tree("committed-2", { "a.rules.yml": "groups: []\n ", "runbooks/a/old.md": "# old\n" });
    const diffs = compareGenerated(fresh, committed, owned);
    expect(diffs).toEqual([
      { path: "a.rules.yml", problem: "stale" },
      { path: "runbooks/a/x.md", problem: "missing" },
      { path: "runbooks/a/old.md", problem: "extra" },
    ]);
    const message = staleMessage("deploy/prometheus", diffs, "npm run dogfood:generate");
    expect(message).toMatch(
      /^deploy\/prometheus is not what its spec generates; run `npm run dogfood:generate`/,
    );
    expect(message).toContain(
      "deploy/prometheus/runbooks/a/old.md is committed but nothing in the spec generates it",
    );
  });
});
