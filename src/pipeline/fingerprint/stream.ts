import { closeSync, openSync, readSync, writeSync } from "node:fs";
import { type BatchOptions, type ParsedLine, prepareMessage } from "./batch.js";
import { fingerprintOf } from "./fingerprint.js";
import { maskMessage } from "./mask.js";
import { TemplateMiner } from "./miner.js";

/**
 * `fingerprintBatch` over a file of any size, in memory bounded by the number of templates: the first pass
 * mines every line and spools what the second needs to scratch files — each line's shape (its cluster and
 * its words at the cluster's enumeration positions, which settle its final template) as a number, each new
 * shape's cluster and masked tokens once, and, when asked, each message; the second pass reads the spools
 * back and gives each line its cluster's final template, so the output is the batch's, line for line,
 * while no line is kept in memory.
 */

/**
 * Bytes read or written at a time. Below V8's large-object size, so a chunk's buffer and strings are
 * recycled with the young generation instead of mapped and unmapped each time: on a million lines a third
 * of the page faults and about 40 MiB less peak memory than with 1 MiB chunks.
 */
export const SPOOL_CHUNK = 1 << 16;

/**
 * The text of a file in chunks of whole lines: each read is cut after its last line break (a byte that is
 * never part of a multi-byte character), so every chunk decodes on its own; a line longer than the buffer
 * grows it. Only the last chunk may end without a line break.
 */
function* textChunks(path: string): Generator<string> {
  const fd = openSync(path, "r");
  try {
    let buf = Buffer.allocUnsafe(SPOOL_CHUNK);
    // bytes of an unfinished line, kept at the start of the buffer
    let kept = 0;
    for (;;) {
      if (kept === buf.length) {
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, kept);
        buf = bigger;
      }
      const n = readSync(fd, buf, kept, buf.length - kept, null);
      if (n === 0) break;
      const end = kept + n;
      const last = buf.lastIndexOf(10, end - 1);
      if (last < 0) {
        kept = end;
        continue;
      }
      yield buf.toString("utf8", 0, last + 1);
      buf.copy(buf, 0, last + 1, end);
      kept = end - last - 1;
    }
    if (kept > 0) yield buf.toString("utf8", 0, kept);
  } finally {
    closeSync(fd);
  }
}

/**
 * Calls `onLine` for each line of a file, split on `\n` or `\r\n`; a final line break makes no extra
 * line. Lines are handed over synchronously, chunk by chunk.
 */
function eachLine(path: string, onLine: (line: string) => void): void {
  for (const text of textChunks(path)) {
    let start = 0;
    for (let nl = text.indexOf("\n"); nl >= 0; start = nl + 1, nl = text.indexOf("\n", start)) {
      onLine(text.slice(start, nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl));
    }
    if (start < text.length) onLine(text.slice(start));
  }
}

/** Appends text to a file descriptor through a buffer, so the spool costs few system calls. */
class TextSpool {
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

/** Appends 32-bit numbers to a file descriptor through a buffer: one per line, no text to build or parse. */
class NumberSpool {
  private readonly buf = new Uint32Array(SPOOL_CHUNK / 4);
  private n = 0;
  constructor(private readonly fd: number) {}
  write(v: number): void {
    this.buf[this.n++] = v;
    if (this.n === this.buf.length) this.flush();
  }
  flush(): void {
    if (this.n) writeSync(this.fd, this.buf, 0, this.n * 4);
    this.n = 0;
  }
}

/** The lines of a text spool (each written with its line break), read back in chunks. */
function* spoolLines(path: string): Generator<string> {
  for (const text of textChunks(path)) {
    const lines = text.split("\n");
    lines.pop();
    yield* lines;
  }
}

/** The numbers of a number spool, read back in chunks (each chunk's view is reused for the next). */
function* spoolNumbers(path: string): Generator<Uint32Array> {
  const fd = openSync(path, "r");
  try {
    const buf = new Uint32Array(SPOOL_CHUNK / 4);
    for (;;) {
      // a read may stop short of a whole number; the next one completes it
      let bytes = 0;
      let n = 1;
      while (n > 0 && bytes < SPOOL_CHUNK) {
        n = readSync(fd, buf, bytes, SPOOL_CHUNK - bytes, null);
        bytes += n;
      }
      if (bytes > 0) yield buf.subarray(0, bytes >> 2);
      if (n === 0) return;
    }
  } finally {
    closeSync(fd);
  }
}

/** Shapes remembered by number on both passes; both forget them together when this many were seen. */
const SHAPES_MAX = 100_000;
/** The number spooled, in place of a shape, to tell the second pass to forget the shapes. */
const FORGET = 0xffff_ffff;

/** The scratch files of one run, beside each other under the caller's prefix. */
function spoolFiles(prefix: string) {
  return { shapes: `${prefix}.shapes`, newShapes: `${prefix}.new`, messages: `${prefix}.messages` };
}

/**
 * Fingerprints the lines of `input` in two passes through scratch files whose names start with
 * `spoolPrefix` (created or truncated; the caller removes them once the results are consumed): per line
 * its shape number; per new shape its cluster and masked tokens; with `withMessage`, per line its redacted
 * message (otherwise each result carries an empty one). Shapes are numbered in order of first sight, so
 * the second pass knows a new one by its number. The first pass runs in this call; the results are then
 * read back lazily, in input order.
 */
export function fingerprintFile(
  input: string,
  spoolPrefix: string,
  options: BatchOptions & { withMessage?: boolean } = {},
): Iterable<ParsedLine> {
  const service = options.service ?? "default";
  const miner = new TemplateMiner(options.miner);
  const withMessage = options.withMessage === true;
  const files = spoolFiles(spoolPrefix);
  // Per cluster: enumeration key → shape number. The lines of a shape share their final template, so
  // the masked tokens of its first line (joined by a space: tokens hold no whitespace) stand for all.
  let shapes = new Map<number, Map<string, number>>();
  let shapeCount = 0;
  let nextShape = 0;
  const fds = [openSync(files.shapes, "w"), openSync(files.newShapes, "w"), openSync(files.messages, "w")];
  try {
    const shapeSpool = new NumberSpool(fds[0]!);
    const newShapeSpool = new TextSpool(fds[1]!);
    const messageSpool = new TextSpool(fds[2]!);
    eachLine(input, (line) => {
      const message = prepareMessage(line, options);
      const tokens = maskMessage(message);
      const { cluster } = miner.add(tokens);
      const key = miner.enumerationKey(cluster, tokens);
      let inCluster = shapes.get(cluster.id);
      if (!inCluster) {
        inCluster = new Map();
        shapes.set(cluster.id, inCluster);
      }
      let shape = inCluster.get(key);
      if (shape === undefined) {
        if (shapeCount >= SHAPES_MAX) {
          shapeSpool.write(FORGET);
          shapes = new Map([[cluster.id, inCluster]]);
          inCluster.clear();
          shapeCount = 0;
        }
        shape = nextShape++;
        inCluster.set(key, shape);
        shapeCount++;
        newShapeSpool.write(`${cluster.id}\t${tokens.join(" ")}\n`);
      }
      shapeSpool.write(shape);
      if (withMessage) messageSpool.write(`${JSON.stringify(message)}\n`);
    });
    shapeSpool.flush();
    newShapeSpool.flush();
    messageSpool.flush();
  } finally {
    for (const fd of fds) closeSync(fd);
  }
  return secondPass(files, miner, service, withMessage);
}

function* secondPass(
  files: ReturnType<typeof spoolFiles>,
  miner: TemplateMiner,
  service: string,
  withMessage: boolean,
): Generator<ParsedLine> {
  const hashes = new Map<string, string>();
  const newShapes = spoolLines(files.newShapes);
  const messages = withMessage ? spoolLines(files.messages) : undefined;
  let byShape = new Map<number, ParsedLine>();
  for (const chunk of spoolNumbers(files.shapes)) {
    for (const shape of chunk) {
      if (shape === FORGET) {
        byShape = new Map();
        continue;
      }
      let found = byShape.get(shape);
      if (found === undefined) {
        const record = newShapes.next().value!;
        const tab = record.indexOf("\t");
        const cluster = miner.cluster(Number(record.slice(0, tab)))!;
        const body = record.slice(tab + 1);
        const template = miner.templateFor(cluster, body === "" ? [] : body.split(" ")).join(" ");
        let fingerprint = hashes.get(template);
        if (fingerprint === undefined) {
          fingerprint = fingerprintOf(service, template);
          hashes.set(template, fingerprint);
        }
        found = { fingerprint, template, message: "" };
        byShape.set(shape, found);
      }
      // Without messages every line of a shape gets the same (read-only) result object.
      yield messages ? { ...found, message: JSON.parse(messages.next().value!) as string } : found;
    }
  }
}
