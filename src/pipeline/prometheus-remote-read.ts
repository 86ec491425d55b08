import snappy from "snappyjs";
import { prometheusType } from "./prometheus-proto.js";
import { PrometheusError, prometheusHttpUrl } from "./prometheus-reader.js";
import { int64 } from "./receivers/otlp-decode.js";
import { decodeXorChunk } from "./xor-chunk.js";

/**
 * Reads raw samples from a Prometheus over remote_read (`POST /api/v1/read`, a snappy-compressed protobuf
 * ReadRequest): the response is either SAMPLES (one snappy-compressed ReadResponse) or, where the server
 * streams, STREAMED_XOR_CHUNKS (frames of ChunkedReadResponse carrying each series' TSDB chunks, decoded
 * here). Raw samples rather than evaluated points: the caller evaluates PromQL itself, one request per
 * selector however many steps the range has.
 */

export type RemoteReadResponseType = "samples" | "streamed-xor-chunks";

export interface RemoteReadMatcher {
  name: string;
  op: "=" | "!=" | "=~" | "!~";
  value: string;
}

export interface RemoteReadSeries {
  labels: Record<string, string>;
  timestamps: Float64Array;
  values: Float64Array;
  /** 1 where the sample is a staleness marker. */
  stale: Uint8Array;
}

export interface RemoteReadResult {
  series: RemoteReadSeries[];
  /** What the server answered with. */
  responseType: RemoteReadResponseType;
}

export interface RemoteReadOptions {
  timeoutMs?: number;
  headers?: Record<string, string>;
  /** Response types to ask for, preferred first (default: streamed chunks, then samples). */
  accept?: RemoteReadResponseType[];
  fetch?: typeof fetch;
}

/** The server does not serve remote_read (no such endpoint, or something else answered it). */
export class RemoteReadUnsupportedError extends PrometheusError {
  override name = "RemoteReadUnsupportedError";
}

const MATCHER_TYPES = { "=": 0, "!=": 1, "=~": 2, "!~": 3 } as const;
const RESPONSE_TYPES = { samples: 0, "streamed-xor-chunks": 1 } as const;
const CHUNK_XOR = 1;
const STREAMED_CONTENT_TYPE = "application/x-streamed-protobuf";
/** Prometheus caps a frame at 1 MiB by default (`--storage.remote.read-max-bytes-in-frame`); allow headroom. */
const MAX_FRAME_BYTES = 64 * 1024 * 1024;

export class PrometheusRemoteReader {
  private readonly url: string;
  private readonly timeoutMs: number;
  private readonly fetchFn: typeof fetch;

  constructor(
    baseUrl: string,
    private readonly options: RemoteReadOptions = {},
  ) {
    this.url = `${prometheusHttpUrl(baseUrl, "Prometheus URL", "http://localhost:9090")}/api/v1/read`;
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.fetchFn = options.fetch ?? fetch;
  }

  /** Every series matching all `matchers` with its samples in [startMs, endMs]. */
  async read(matchers: RemoteReadMatcher[], startMs: number, endMs: number): Promise<RemoteReadResult> {
    if (matchers.length === 0)
      throw new PrometheusError('remote_read needs at least one matcher (e.g. __name__="up")');
    const accept = this.options.accept ?? ["streamed-xor-chunks", "samples"];
    const type = prometheusType("ReadRequest");
    const request = type
      .encode(
        type.fromObject({
          queries: [
            {
              startTimestampMs: startMs,
              endTimestampMs: endMs,
              matchers: matchers.map((m) => ({ type: MATCHER_TYPES[m.op], name: m.name, value: m.value })),
              hints: { startMs, endMs },
            },
          ],
          acceptedResponseTypes: accept.map((a) => RESPONSE_TYPES[a]),
        }),
      )
      .finish();
    const signal = AbortSignal.timeout(this.timeoutMs);
    let res: Response;
    try {
      res = await this.fetchFn(this.url, {
        method: "POST",
        headers: {
          "content-type": "application/x-protobuf",
          "content-encoding": "snappy",
          "x-prometheus-remote-read-version": "0.1.0",
          ...this.options.headers,
        },
        body: snappy.compress(request) as Uint8Array<ArrayBuffer>,
        signal,
      });
    } catch (err) {
      throw this.networkError(err as Error);
    }
    if (res.status === 404 || res.status === 405 || res.status === 501) {
      await res.body?.cancel();
      throw new RemoteReadUnsupportedError(
        `${this.url} answered ${res.status}: the server does not serve remote_read`,
        res.status,
      );
    }
    if (!res.ok) {
      const text = await res.text();
      throw new PrometheusError(
        `remote_read ${this.url} failed with ${res.status}: ${text.trim().slice(0, 200)}`,
        res.status,
      );
    }
    const contentType = res.headers.get("content-type") ?? "";
    try {
      if (contentType.startsWith(STREAMED_CONTENT_TYPE)) {
        if (!res.body) throw new PrometheusError(`remote_read ${this.url} streamed an empty body`);
        return { series: await readStreamed(res.body, startMs, endMs), responseType: "streamed-xor-chunks" };
      }
      if (contentType.startsWith("application/x-protobuf")) {
        return {
          series: decodeSamples(new Uint8Array(await res.arrayBuffer())),
          responseType: "samples",
        };
      }
    } catch (err) {
      if (err instanceof PrometheusError) throw err;
      if ((err as Error).name === "TimeoutError" || (err as Error).name === "AbortError")
        throw this.networkError(err as Error);
      throw new PrometheusError(
        `remote_read ${this.url} sent an invalid response: ${(err as Error).message}`,
      );
    }
    await res.body?.cancel();
    throw new RemoteReadUnsupportedError(
      `${this.url} answered with ${JSON.stringify(contentType)}, not a remote_read response`,
      res.status,
    );
  }

  private networkError(e: Error): PrometheusError {
    if (e.name === "TimeoutError" || e.name === "AbortError")
      return new PrometheusError(`remote_read ${this.url} did not answer within ${this.timeoutMs} ms`);
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    return new PrometheusError(
      `Prometheus at ${this.url} is unreachable: ${e.message}${cause ? ` (${cause.code ?? cause.message ?? ""})` : ""}`,
    );
  }
}

// biome-ignore lint/suspicious/noExplicitAny: protobufjs messages are walked structurally
type Message = any;

function labelsOf(list: Message[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of list ?? []) out[String(l.name ?? "")] = String(l.value ?? "");
  return out;
}

/** A SAMPLES answer: one snappy-compressed ReadResponse. NaN values count as staleness markers. */
function decodeSamples(body: Uint8Array): RemoteReadSeries[] {
  const msg: Message = prometheusType("ReadResponse").decode(snappy.uncompress(body));
  const out: RemoteReadSeries[] = [];
  for (const result of msg.results ?? []) {
    for (const ts of result.timeseries ?? []) {
      const samples: Message[] = ts.samples ?? [];
      const n = samples.length;
      const series: RemoteReadSeries = {
        labels: labelsOf(ts.labels),
        timestamps: new Float64Array(n),
        values: new Float64Array(n),
        stale: new Uint8Array(n),
      };
      samples.forEach((s, i) => {
        series.timestamps[i] = int64(s.timestamp);
        const v = Number(s.value ?? 0);
        series.values[i] = v;
        if (Number.isNaN(v)) series.stale[i] = 1;
      });
      out.push(series);
    }
  }
  return out;
}

/**
 * A STREAMED_XOR_CHUNKS answer, read frame by frame as it arrives: each frame is a uvarint length, the
 * CRC32C (Castagnoli) of the message, then a ChunkedReadResponse. A series may continue in the next frame
 * (split by time) but never resumes once another has started.
 */
async function readStreamed(
  body: ReadableStream<Uint8Array>,
  startMs: number,
  endMs: number,
): Promise<RemoteReadSeries[]> {
  const type = prometheusType("ChunkedReadResponse");
  const out: RemoteReadSeries[] = [];
  let currentKey: string | undefined;
  let parts: { labels: Record<string, string>; chunks: ReturnType<typeof decodeXorChunk>[] } | undefined;
  const flush = () => {
    if (parts) out.push(joinChunks(parts.labels, parts.chunks, startMs, endMs));
    parts = undefined;
  };
  for await (const frame of frames(body)) {
    const msg: Message = type.decode(frame);
    for (const cs of msg.chunkedSeries ?? []) {
      const labels = labelsOf(cs.labels);
      const key = JSON.stringify(labels);
      if (key !== currentKey) {
        flush();
        currentKey = key;
        parts = { labels, chunks: [] };
      }
      for (const c of cs.chunks ?? []) {
        if (c.type !== CHUNK_XOR) {
          throw new PrometheusError(
            `remote_read sent a chunk of encoding ${c.type} for ${key}; only float (XOR) series are read`,
          );
        }
        parts!.chunks.push(decodeXorChunk(c.data));
      }
    }
  }
  flush();
  return out;
}

/** A series' chunks end to end, keeping the samples in [startMs, endMs] (chunks are sent whole). */
function joinChunks(
  labels: Record<string, string>,
  chunks: ReturnType<typeof decodeXorChunk>[],
  startMs: number,
  endMs: number,
): RemoteReadSeries {
  let n = 0;
  for (const c of chunks) for (const t of c.timestamps) if (t >= startMs && t <= endMs) n++;
  const series: RemoteReadSeries = {
    labels,
    timestamps: new Float64Array(n),
    values: new Float64Array(n),
    stale: new Uint8Array(n),
  };
  let k = 0;
  for (const c of chunks) {
    for (let i = 0; i < c.timestamps.length; i++) {
      const t = c.timestamps[i]!;
      if (t < startMs || t > endMs) continue;
      series.timestamps[k] = t;
      series.values[k] = c.values[i]!;
      series.stale[k] = c.stale[i]!;
      k++;
    }
  }
  return series;
}

async function* frames(body: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  let buf = new Uint8Array(0);
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (value?.length) {
        const next = new Uint8Array(buf.length + value.length);
        next.set(buf);
        next.set(value, buf.length);
        buf = next;
      }
      let off = 0;
      for (;;) {
        const head = frameHeader(buf, off);
        if (!head || off + head.headerBytes + head.size > buf.length) break;
        const start = off + head.headerBytes;
        const msg = buf.subarray(start, start + head.size);
        if (crc32c(msg) !== head.crc)
          throw new PrometheusError("remote_read frame failed its CRC32C check (corrupted stream)");
        yield msg;
        off = start + head.size;
      }
      buf = buf.subarray(off);
      if (done) break;
    }
  } finally {
    reader.releaseLock();
  }
  if (buf.length > 0) throw new PrometheusError("remote_read stream ended in the middle of a frame");
}

function frameHeader(
  buf: Uint8Array,
  off: number,
): { size: number; crc: number; headerBytes: number } | undefined {
  let size = 0;
  let scale = 1;
  let i = off;
  for (;;) {
    if (i >= buf.length) return undefined;
    const b = buf[i++]!;
    size += (b & 0x7f) * scale;
    if (b < 0x80) break;
    scale *= 128;
    if (i - off > 9) throw new PrometheusError("remote_read frame has an overlong size varint");
  }
  if (size > MAX_FRAME_BYTES)
    throw new PrometheusError(`remote_read frame of ${size} bytes is over ${MAX_FRAME_BYTES}`);
  if (i + 4 > buf.length) return undefined;
  const crc = ((buf[i]! << 24) | (buf[i + 1]! << 16) | (buf[i + 2]! << 8) | buf[i + 3]!) >>> 0;
  return { size, crc, headerBytes: i + 4 - off };
}

let crcTable: Uint32Array | undefined;

/** CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), what Prometheus checksums frames with. */
export function crc32c(data: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = crcTable[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
