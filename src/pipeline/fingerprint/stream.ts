import { closeSync, createReadStream, openSync, readSync, writeSync } from "node:fs";
import { type BatchOptions, type ParsedLine, prepareMessage } from "./batch.js";
import { fingerprintOf } from "./fingerprint.js";
import { maskMessage } from "./mask.js";
import { TemplateMiner } from "./miner.js";

/**
 * `fingerprintBatch` over a file of any size, in memory bounded by the number of templates: the first pass
 * mines every line and spools what the second needs to a scratch file — the line's cluster and masked
 * tokens (its "shape"; a shape seen before is spooled as its number) and, when asked, its message; the
 * second pass reads the spool back and gives each line its cluster's final template, so the output is the
 * batch's, line for line, while no line is kept in memory.
 */

const SPOOL_CHUNK = 1 << 20;

/**
 * Calls `onLine` for each line of a file, split on `\n` or `\r\n`; a final line break
 * makes no extra line. Lines are handed over synchronously, chunk by chunk.
 */
async function eachLine(path: string, onLine: (line: string) => void): Promise<void> {
  let rest = "";
  for await (const chunk of createReadStream(path, { encoding: "utf8", highWaterMark: SPOOL_CHUNK })) {
    const lines = (rest + (chunk as string)).split("\n");
    rest = lines.pop()!;
    for (const l of lines) onLine(l.endsWith("\r") ? l.slice(0, -1) : l);
  }
  if (rest !== "") onLine(rest);
}

/** Appends text to a file descriptor through a buffer, so the spool costs few system calls. */
class SpoolWriter {
  private parts: string[] = [];
  private size = 0;
  constructor(private readonly fd: number) {}
  write(s: string): void {
    this.parts.push(s);
    this.size += s.length;
    if (this.size >= SPOOL_CHUNK) this.flush();
  }
  flush(): void {
    if (this.parts.length) writeSync(this.fd, this.parts.join(""));
    this.parts = [];
    this.size = 0;
  }
}

/** The spool's lines, read back in chunks. */
function* spoolLines(path: string): Generator<string> {
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.alloc(SPOOL_CHUNK);
    let rest = "";
    for (let n = readSync(fd, buf); n > 0; n = readSync(fd, buf)) {
      const text = rest + buf.toString("utf8", 0, n);
      const lines = text.split("\n");
      rest = lines.pop()!;
      yield* lines;
    }
    if (rest) yield rest;
  } finally {
    closeSync(fd);
  }
}

/** Shapes remembered by number on both passes; both forget them together when this many were seen. */
const SHAPES_MAX = 100_000;
/** The spool record that tells the second pass to forget the shapes. */
const FORGET = "!";

/**
 * Fingerprints the lines of `input` in two passes through the scratch file `spoolPath` (created or
 * truncated; the caller removes it once the results are consumed). The first pass runs when this is
 * awaited; the results are then read back lazily, in input order. With `withMessage` each result carries
 * the redacted message, otherwise an empty one.
 */
export async function fingerprintFile(
  input: string,
  spoolPath: string,
  options: BatchOptions & { withMessage?: boolean } = {},
): Promise<Iterable<ParsedLine>> {
  const service = options.service ?? "default";
  const miner = new TemplateMiner(options.miner);
  const withMessage = options.withMessage === true;
  // Per cluster: masked tokens joined by a space (tokens hold no whitespace) → shape number.
  let shapes = new Map<number, Map<string, number>>();
  let shapeCount = 0;
  let nextShape = 0;
  const fd = openSync(spoolPath, "w");
  try {
    const spool = new SpoolWriter(fd);
    await eachLine(input, (line) => {
      const message = prepareMessage(line, options);
      const tokens = maskMessage(message);
      const { cluster } = miner.add(tokens);
      const body = tokens.join(" ");
      let inCluster = shapes.get(cluster.id);
      if (!inCluster) {
        inCluster = new Map();
        shapes.set(cluster.id, inCluster);
      }
      let shape = inCluster.get(body);
      // Record: shape number, then on its first sight the cluster and the tokens, then the message if asked.
      if (shape === undefined) {
        if (shapeCount >= SHAPES_MAX) {
          spool.write(`${FORGET}\n`);
          shapes = new Map([[cluster.id, inCluster]]);
          inCluster.clear();
          shapeCount = 0;
        }
        shape = nextShape++;
        inCluster.set(body, shape);
        shapeCount++;
        spool.write(`${shape}\t${cluster.id}\t${body}`);
      } else spool.write(`${shape}\t\t`);
      spool.write(withMessage ? `\t${JSON.stringify(message)}\n` : "\n");
    });
    spool.flush();
  } finally {
    closeSync(fd);
  }
  return secondPass(spoolPath, miner, service, withMessage);
}

function* secondPass(
  spoolPath: string,
  miner: TemplateMiner,
  service: string,
  withMessage: boolean,
): Generator<ParsedLine> {
  const hashes = new Map<string, string>();
  let byShape = new Map<number, { fingerprint: string; template: string }>();
  for (const record of spoolLines(spoolPath)) {
    if (record === FORGET) {
      byShape = new Map();
      continue;
    }
    const a = record.indexOf("\t");
    const b = record.indexOf("\t", a + 1);
    const end = withMessage ? record.indexOf("\t", b + 1) : record.length;
    const shape = Number(record.slice(0, a));
    let found = byShape.get(shape);
    if (found === undefined) {
      const cluster = miner.cluster(Number(record.slice(a + 1, b)))!;
      const body = record.slice(b + 1, end);
      const template = miner.templateFor(cluster, body === "" ? [] : body.split(" ")).join(" ");
      let fingerprint = hashes.get(template);
      if (fingerprint === undefined) {
        fingerprint = fingerprintOf(service, template);
        hashes.set(template, fingerprint);
      }
      found = { fingerprint, template };
      byShape.set(shape, found);
    }
    yield {
      fingerprint: found.fingerprint,
      template: found.template,
      message: withMessage ? (JSON.parse(record.slice(end + 1)) as string) : "",
    };
  }
}
