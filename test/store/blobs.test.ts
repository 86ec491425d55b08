import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import S3rver from "s3rver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openFileBlobs } from "../../src/store/blobs/file.js";
import { getJsonlGz, putJsonlGz } from "../../src/store/blobs/jsonl.js";
import { checkKey, samplesKey } from "../../src/store/blobs/keys.js";
import { openS3Blobs, parseS3Url } from "../../src/store/blobs/s3.js";
import { openBlobs } from "../../src/store/open.js";
import type { BlobStore } from "../../src/store/ports.js";
import { requireService } from "../helpers/services.js";

const CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };

async function startS3rver(buckets: string[]) {
  const directory = mkdtempSync(join(tmpdir(), "slo-s3rver-"));
  const server = new S3rver({
    address: "127.0.0.1",
    port: 0,
    silent: true,
    directory,
    configureBuckets: buckets.map((name) => ({ name })),
  });
  const { port } = await server.run();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    async stop() {
      const closing = server.close();
      // The SDK keeps connections alive; close them so the server actually stops.
      server.httpServer?.closeAllConnections();
      await closing;
    },
    cleanup: () => rmSync(directory, { recursive: true, force: true }),
  };
}

/** The behaviour every BlobStore adapter shares. */
function blobContract(name: string, open: () => Promise<BlobStore>) {
  describe(`blob store contract: ${name}`, () => {
    let store: BlobStore;
    beforeAll(async () => {
      store = await open();
    });
    afterAll(() => store?.close());

    it("stores, reads back, overwrites and deletes a blob", async () => {
      await store.ping();
      await store.put("a/b/one.bin", Buffer.from([0, 1, 2, 255]));
      expect(await store.get("a/b/one.bin")).toEqual(Buffer.from([0, 1, 2, 255]));
      await store.put("a/b/one.bin", Buffer.from("second"));
      expect((await store.get("a/b/one.bin"))?.toString()).toBe("second");
      await store.delete("a/b/one.bin");
      expect(await store.get("a/b/one.bin")).toBeUndefined();
      await store.delete("a/b/one.bin");
    });

    it("answers undefined for a key that was never written", async () => {
      expect(await store.get("never/written.bin")).toBeUndefined();
    });

    it("lists keys under a prefix, sorted", async () => {
      await store.put("samples/checkout/2.jsonl.gz", Buffer.from("x"));
      await store.put("samples/checkout/1.jsonl.gz", Buffer.from("x"));
      await store.put("samples/cart/1.jsonl.gz", Buffer.from("x"));
      expect(await store.list("samples/checkout/")).toEqual([
        "samples/checkout/1.jsonl.gz",
        "samples/checkout/2.jsonl.gz",
      ]);
      expect(await store.list("samples/")).toHaveLength(3);
      expect(await store.list("nothing/")).toEqual([]);
    });

    it("round-trips JSONL.gz sample files", async () => {
      const samples = [
        { time: 1, line: "payment failed for order <NUM>" },
        { time: 2, line: 'ünïcode ✓ and "quotes"\nnewline' },
      ];
      const key = samplesKey("checkout/eu", 1767607200000);
      await putJsonlGz(store, key, samples);
      expect(await getJsonlGz(store, key)).toEqual(samples);
      expect(await getJsonlGz(store, "samples/none.jsonl.gz")).toBeUndefined();
    });

    it("refuses keys that could escape the store", async () => {
      for (const bad of ["../x", "/abs", "a//b", "a/./b", "a\\b", ""]) {
        await expect(store.put(bad, Buffer.from("x"))).rejects.toThrow(/invalid blob key/);
      }
    });
  });
}

const fileRoot = mkdtempSync(join(tmpdir(), "slo-blobs-"));
afterAll(() => rmSync(fileRoot, { recursive: true, force: true }));

blobContract("file", async () => openBlobs({ BLOB_URL: `file://${fileRoot}/store` }));

describe("file blobs", () => {
  it("writes atomically: no temp files are left and readers see whole blobs", async () => {
    const store = openFileBlobs(`file://${fileRoot}/atomic`);
    const big = Buffer.alloc(2_000_000, 7);
    await Promise.all([store.put("k.bin", big), store.put("k.bin", Buffer.alloc(2_000_000, 9))]);
    const got = await store.get("k.bin");
    expect(got?.length).toBe(2_000_000);
    expect(new Set(got)).toHaveProperty("size", 1);
    expect(readdirSync(join(fileRoot, "atomic"))).toEqual(["k.bin"]);
  });

  it("reports a corrupt JSONL.gz blob clearly", async () => {
    const store = openFileBlobs(`file://${fileRoot}/corrupt`);
    await store.put("bad.jsonl.gz", Buffer.from("not gzip"));
    await expect(getJsonlGz(store, "bad.jsonl.gz")).rejects.toThrow(/not gzip data/);
  });
});

describe("blob URLs and keys", () => {
  it("parses s3 URLs with and without a prefix", () => {
    expect(parseS3Url("s3://bucket")).toEqual({ bucket: "bucket", prefix: "" });
    expect(parseS3Url("s3://bucket/a/b/")).toEqual({ bucket: "bucket", prefix: "a/b/" });
    expect(() => parseS3Url("s3://")).toThrow(/not an s3:\/\/ URL/);
  });

  it("encodes service names into one key segment", () => {
    expect(samplesKey("checkout/eu", 5)).toBe("samples/checkout%2Feu/5.jsonl.gz");
    expect(checkKey(samplesKey("a b", 1))).toBe("samples/a%20b/1.jsonl.gz");
  });
});

// s3rver is a dev dependency, so it is always there; requireService still guards the loopback listen.
let s3: Awaited<ReturnType<typeof startS3rver>> | undefined;
const s3Up = await requireService("s3rver", async () => {
  s3 = await startS3rver(["slo-bucket"]);
});
afterAll(async () => {
  await s3?.stop().catch(() => {});
  s3?.cleanup();
});

if (s3Up) {
  blobContract("s3 (s3rver)", async () =>
    openS3Blobs({
      url: "s3://slo-bucket/team-a",
      endpoint: s3!.endpoint,
      forcePathStyle: true,
      credentials: CREDENTIALS,
    }),
  );

  describe("s3 blobs against s3rver", () => {
    it("keeps keys under the URL's prefix", async () => {
      const scoped = openS3Blobs({
        url: "s3://slo-bucket/team-b",
        endpoint: s3!.endpoint,
        forcePathStyle: true,
        credentials: CREDENTIALS,
      });
      const root = openS3Blobs({
        url: "s3://slo-bucket",
        endpoint: s3!.endpoint,
        forcePathStyle: true,
        credentials: CREDENTIALS,
      });
      await scoped.put("x/y.bin", Buffer.from("1"));
      expect(await scoped.list("x/")).toEqual(["x/y.bin"]);
      expect(await root.list("team-b/")).toEqual(["team-b/x/y.bin"]);
      expect((await root.get("team-b/x/y.bin"))?.toString()).toBe("1");
      await scoped.close();
      await root.close();
    });

    it("names a missing bucket clearly on ping, put and list", async () => {
      const store = openS3Blobs({
        url: "s3://no-such-bucket",
        endpoint: s3!.endpoint,
        forcePathStyle: true,
        credentials: CREDENTIALS,
      });
      await expect(store.ping()).rejects.toThrow(/bucket "no-such-bucket" does not exist/);
      await expect(store.put("a.bin", Buffer.from("x"))).rejects.toThrow(
        /bucket "no-such-bucket" does not exist/,
      );
      await expect(store.list("")).rejects.toThrow(/bucket "no-such-bucket" does not exist/);
      await store.close();
    });

    it("surfaces a failed upload when the server is gone, and nothing claims success", async () => {
      const own = await startS3rver(["gone"]);
      const store = openS3Blobs({
        url: "s3://gone",
        endpoint: own.endpoint,
        forcePathStyle: true,
        credentials: CREDENTIALS,
        maxAttempts: 2,
      });
      await store.put("before.bin", Buffer.from("ok"));
      await own.stop();
      await expect(store.put("after.bin", Buffer.from("lost"))).rejects.toThrow(
        /blob store: put after.bin on s3:\/\/gone at http:\/\/127\.0\.0\.1:\d+ failed/,
      );
      await expect(putJsonlGz(store, "after.jsonl.gz", [{ a: 1 }])).rejects.toThrow(/failed/);
      await expect(store.ping()).rejects.toThrow(/failed/);
      await store.close();
      own.cleanup();
    });
  });
}
