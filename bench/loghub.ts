import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { type Accuracy, accuracy } from "../src/pipeline/fingerprint/accuracy.js";
import { parseBatch } from "../src/pipeline/fingerprint/batch.js";
import { parseCsvRecords } from "../src/pipeline/fingerprint/csv.js";

export const SYSTEMS = ["HDFS", "Apache", "BGL", "HPC", "Linux", "OpenSSH", "Proxifier", "Zookeeper"];

export function loghubDir(): string {
  return process.env.LOGHUB_DIR ?? resolve(import.meta.dirname, "..", "..", "shared", "corpora", "loghub");
}

export interface SystemData {
  system: string;
  contents: string[];
  rawLines: string[];
  truth: string[];
}

export function loadSystem(system: string, dir = loghubDir()): SystemData {
  const rows = parseCsvRecords(
    readFileSync(join(dir, system, `${system}_2k.log_structured_corrected.csv`), "utf8"),
  );
  const raw = readFileSync(join(dir, system, `${system}_2k.log`), "utf8").split("\n");
  return {
    system,
    contents: rows.map((r) => r.Content!),
    truth: rows.map((r) => r.EventTemplate!),
    rawLines: raw.slice(0, rows.length),
  };
}

export function scoreContents(data: SystemData): Accuracy {
  const parsed = parseBatch(data.contents);
  return accuracy(
    data.truth,
    parsed.map((p) => p.fingerprint),
    parsed.map((p) => p.template),
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = loghubDir();
  if (!existsSync(dir)) {
    console.log(`skipped: Loghub corpus not found at ${dir} (set LOGHUB_DIR)`);
    process.exit(0);
  }
  const debug = process.env.DEBUG_SYSTEM;
  let ga = 0;
  let pa = 0;
  for (const s of SYSTEMS) {
    const d = loadSystem(s, dir);
    const a = scoreContents(d);
    ga += a.ga;
    pa += a.pa;
    console.log(
      `${s.padEnd(10)} GA ${a.ga.toFixed(3)} FGA ${a.fga.toFixed(3)} PA ${a.pa.toFixed(3)} ${a.predictedGroups}/${a.truthGroups}`,
    );
    if (debug === s) {
      const parsed = parseBatch(d.contents);
      const seen = new Set<string>();
      d.contents.forEach((c, i) => {
        const k = `${d.truth[i]}|${parsed[i]!.template}`;
        if (parsed[i]!.template !== d.truth[i] && !seen.has(k)) {
          seen.add(k);
          console.log(`  T ${d.truth[i]}\n  P ${parsed[i]!.template}\n  C ${c}`);
        }
      });
    }
  }
  console.log(`mean       GA ${(ga / SYSTEMS.length).toFixed(3)} PA ${(pa / SYSTEMS.length).toFixed(3)}`);
}
