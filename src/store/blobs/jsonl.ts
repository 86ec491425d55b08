import { promisify } from "node:util";
import { gunzip, gzip } from "node:zlib";
import type { BlobStore } from "../ports.js";

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** Writes `objects` as gzipped JSON Lines, one object a line. */
export async function putJsonlGz(store: BlobStore, key: string, objects: unknown[]): Promise<void> {
  const text = objects.map((o) => `${JSON.stringify(o)}\n`).join("");
  await store.put(key, await gzipAsync(Buffer.from(text, "utf8")), "application/x-ndjson+gzip");
}

/** Reads a JSONL.gz blob; undefined when the key does not exist, an error naming the line when one is bad. */
export async function getJsonlGz<T = unknown>(store: BlobStore, key: string): Promise<T[] | undefined> {
  const body = await store.get(key);
  if (body === undefined) return undefined;
  let text: string;
  try {
    text = (await gunzipAsync(body)).toString("utf8");
  } catch (err) {
    throw new Error(`blob ${key} is not gzip data: ${(err as Error).message}`);
  }
  const out: T[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === "") continue;
    try {
      out.push(JSON.parse(line) as T);
    } catch {
      throw new Error(`blob ${key} line ${i + 1} is not JSON`);
    }
  }
  return out;
}
