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

const redact = createRedactor();
const fingerprinter = new Fingerprinter();
const fingerprints = new Set<string>();
const started = process.hrtime.bigint();
for (let r = 0; r < repeats; r++) {
  for (const { service, message } of corpus) {
    const result = fingerprinter.process(service, redact(message));
    if (r === 0) fingerprints.add(result.fingerprint);
  }
}
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const rssMiB = process.resourceUsage().maxRSS / 1024;

console.log(`fingerprint + redact + hash, one core (Node ${process.version}):`);
console.log(`  lines            ${total.toLocaleString("en")} (${corpus.length} messages × ${repeats})`);
console.log(`  time             ${seconds.toFixed(2)} s`);
console.log(`  throughput       ${Math.round(total / seconds).toLocaleString("en")} lines/s`);
console.log(`  peak RSS         ${rssMiB.toFixed(0)} MiB`);
console.log(`  fingerprints     ${fingerprints.size} distinct in the first pass`);
