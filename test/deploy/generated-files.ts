import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

/**
 * Compares what a generator just wrote (`fresh`) with what is committed (`committed`), byte for byte.
 * Only paths `owned` says the generator writes are compared, so other files in the committed folder
 * (a Prometheus or compose config beside the rules) are left alone.
 */

export interface Difference {
  path: string;
  /** stale: the contents differ; missing: not committed; extra: committed, but nothing generates it. */
  problem: "stale" | "missing" | "extra";
}

function files(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

export function compareGenerated(
  fresh: string,
  committed: string,
  owned: (path: string) => boolean,
): Difference[] {
  const generated = files(fresh);
  const out: Difference[] = [];
  for (const path of generated) {
    const target = join(committed, path);
    if (!existsSync(target)) out.push({ path, problem: "missing" });
    else if (!readFileSync(target).equals(readFileSync(join(fresh, path))))
      out.push({ path, problem: "stale" });
  }
  const expected = new Set(generated);
  for (const path of files(committed)) {
    if (owned(path) && !expected.has(path)) out.push({ path, problem: "extra" });
  }
  return out;
}

/** One message naming every difference and the command that fixes them. */
export function staleMessage(folder: string, diffs: Difference[], command: string): string {
  const what: Record<Difference["problem"], string> = {
    stale: "differs from what the spec generates",
    missing: "is generated but not committed",
    extra: "is committed but nothing in the spec generates it: delete it",
  };
  return [
    `${folder} is not what its spec generates; run \`${command}\` and commit the result:`,
    ...diffs.map((d) => `  ${join(folder, d.path)} ${what[d.problem]}`),
  ].join("\n");
}
