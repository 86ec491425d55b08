/**
 * Throughput of the fingerprint stage on one core: redact → mine template → SHA-256 fingerprint, per
 * message, through the streaming Fingerprinter the pipeline uses. Input: the 8 Loghub systems' messages
 * (Content column) concatenated and repeated to at least 1M lines, one service per system. Prints
 * lines/s and the peak resident memory. Skips when the corpus is absent.
 *
 *   npm run bench:fingerprint [-- --lines 2000000]
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Fingerprinter } from "../src/pipeline/fingerprint/fingerprinter.js";
import { createRedactor } from "../src/pipeline/redact.js";
import { loadSystem, loghubDir, SYSTEMS } from "./loghub.js";

const dir = loghubDir();
if (!existsSync(join(dir, "HDFS"))) {
  console.log(`skipped: the Loghub corpus is not at ${dir} (set LOGHUB_DIR to its folder)`);
  process.exit(0);
}
const flag = process.argv.indexOf("--lines");
const target = flag > 0 ? Number(process.argv[flag + 1]) : 1_000_000;

const corpus: { service: string; message: string }[] = [];
for (const s of SYSTEMS)
  for (const message of loadSystem(s, dir).contents) corpus.push({ service: s, message });
const repeats = Math.ceil(target / corpus.length);
const total = repeats * corpus.length;

const rounds = 3;
const redact = createRedactor();
const fingerprints = new Set<string>();
interface Round {
  seconds: number;
  cpuSeconds: number;
}
const results: Round[] = [];
// a fresh Fingerprinter per round: each round mines the templates from scratch
for (let round = 0; round < rounds; round++) {
  const fingerprinter = new Fingerprinter();
  const started = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  for (let r = 0; r < repeats; r++) {
    for (const { service, message } of corpus) {
      const result = fingerprinter.process(service, redact(message));
      if (r === 0 && round === 0) fingerprints.add(result.fingerprint);
    }
  }
  const cpu = process.cpuUsage(cpuStart);
  results.push({
    seconds: Number(process.hrtime.bigint() - started) / 1e9,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
  });
}
const best = results.reduce((a, b) => (b.cpuSeconds < a.cpuSeconds ? b : a));
const rssMiB = process.resourceUsage().maxRSS / 1024;
const rate = (s: number) => Math.round(total / s).toLocaleString("en");

console.log(`fingerprint + redact + hash, one core (Node ${process.version}):`);
console.log(`  lines per round  ${total.toLocaleString("en")} (${corpus.length} messages × ${repeats})`);
console.log(
  `  rounds           ${results.map((r) => `${rate(r.cpuSeconds)}/CPU-s (${rate(r.seconds)}/s wall)`).join(", ")}`,
);
// on a shared machine the wall clock includes time other processes held the core; CPU time does not
console.log(`  throughput       ${rate(best.cpuSeconds)} lines per CPU-second (best of ${rounds})`);
console.log(`                   ${rate(best.seconds)} lines/s wall clock in that round`);
console.log(`  peak RSS         ${rssMiB.toFixed(0)} MiB`);
console.log(`  fingerprints     ${fingerprints.size} distinct in the first pass`);
