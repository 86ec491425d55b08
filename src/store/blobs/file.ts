import { randomBytes } from "node:crypto";
import { access, constants, mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import type { BlobStore } from "../ports.js";
import { checkKey } from "./keys.js";

/**
 * Blobs as files under one directory: the embedded default. A write lands in a temp file that is renamed
 * into place, so a reader never sees half a blob and a crash leaves no truncated one.
 */

/** `file://./.slo-scout/blobs` → a relative directory; `file:///var/blobs` → absolute. */
export function fileBlobRoot(url: string): string {
  if (!url.startsWith("file://"))
    throw new Error(`not a file:// URL: ${url} (e.g. file://./.slo-scout/blobs)`);
  const path = decodeURIComponent(url.slice("file://".length));
  if (path === "") throw new Error(`BLOB_URL ${url} names no directory (e.g. file://./.slo-scout/blobs)`);
  return resolve(path);
}

async function walk(dir: string, out: string[]): Promise<void> {
  let entries: import("node:fs").Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
    throw err;
  }
  for (const e of entries) {
    const full = join(dir, e.name);
    if (e.isDirectory()) await walk(full, out);
    else if (e.isFile() && !e.name.startsWith(".tmp-")) out.push(full);
  }
}

export function openFileBlobs(url: string): BlobStore {
  const root = fileBlobRoot(url);
  const pathOf = (key: string) => join(root, ...checkKey(key).split("/"));
  return {
    async put(key, body) {
      const path = pathOf(key);
      await mkdir(dirname(path), { recursive: true });
      const tmp = join(dirname(path), `.tmp-${randomBytes(6).toString("hex")}`);
      try {
        await writeFile(tmp, body);
        await rename(tmp, path);
      } catch (err) {
        await rm(tmp, { force: true });
        throw new Error(`blob store: writing ${key} under ${root} failed: ${(err as Error).message}`);
      }
    },
    async get(key) {
      try {
        return await readFile(pathOf(key));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw err;
      }
    },
    async list(prefix) {
      const files: string[] = [];
      await walk(root, files);
      return files
        .map((f) => relative(root, f).split(sep).join("/"))
        .filter((k) => k.startsWith(prefix))
        .sort();
    },
    async delete(key) {
      await rm(pathOf(key), { force: true });
    },
    async ping() {
      await mkdir(root, { recursive: true });
      await access(root, constants.W_OK);
    },
    async close() {},
  };
}
