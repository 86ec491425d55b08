import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import protobuf from "protobufjs";
import snappy from "snappyjs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { main } from "../../src/cli.js";
import { openSql } from "../../src/store/open.js";
import { listMetricNames } from "../../src/store/repos/metric-samples.js";
import { listServices } from "../../src/store/repos/services.js";

/** `slo-scout ingest` end to end in-process: decoders → bus → (stream stage →) storage, and its usage errors. */

const dir = mkdtempSync(join(tmpdir(), "slo-scout-ingest-"));
const env = {
  DATABASE_URL: `pglite://${join(dir, "db")}`,
  BLOB_URL: `file://${join(dir, "blobs")}`,
  DATA_DIR: dir,
  SLO_SCOUT_CONFIG: join(dir, "none.yml"),
  LOG_LEVEL: "error",
};
const saved: Record<string, string | undefined> = {};

beforeAll(() => {
  for (const [k, v] of Object.entries(env)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
});
afterAll(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  rmSync(dir, { recursive: true, force: true });
});

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const o = vi.spyOn(process.stdout, "write").mockImplementation((s) => {
    out += String(s);
    return true;
  });
  const e = vi.spyOn(process.stderr, "write").mockImplementation((s) => {
    err += String(s);
    return true;
  });
  try {
    return { code: await main(["ingest", ...args]), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

function remoteWriteFile(): string {
  const WriteRequest = protobuf
    .loadSync(fileURLToPath(new URL("../../schemas/prometheus/remote.proto", import.meta.url)))
    .lookupType("prometheus.WriteRequest");
  const t = Date.now() - 60_000;
  const body = WriteRequest.encode(
    WriteRequest.fromObject({
      timeseries: [
        {
          labels: [
            { name: "__name__", value: "cli_requests_total" },
            { name: "job", value: "cli-shop" },
          ],
          samples: [
            { value: 1, timestamp: t },
            { value: 4, timestamp: t + 15_000 },
          ],
        },
        { labels: [{ name: "__name__", value: "bad name!" }], samples: [{ value: 1, timestamp: t }] },
      ],
    }),
  ).finish();
  const file = join(dir, "write.snappy");
  writeFileSync(file, snappy.compress(body));
  return file;
}

describe("slo-scout ingest", () => {
  it("loads a remote_write capture, reports the rejected series and stores the rest", async () => {
    const { code, out } = await run([remoteWriteFile(), "--format", "remote-write"]);
    expect(code).toBe(0);
    expect(out).toMatch(/accepted 2 records, rejected 1; published 1 events/);
    expect(out).toMatch(/rejected: invalid label name "bad name!"|rejected: invalid metric name/);
    expect(out).toMatch(/stored by the stream stage/);
    const sql = await openSql({ DATABASE_URL: env.DATABASE_URL });
    try {
      expect(await listMetricNames(sql)).toContain("cli_requests_total");
      expect((await listServices(sql)).map((s) => s.name)).toContain("cli-shop");
    } finally {
      await sql.close();
    }
  }, 120_000);

  it("exits 1 when nothing in the file could be used", async () => {
    const file = join(dir, "bad.ndjson");
    writeFileSync(file, '{"log":"no service"}\n');
    const { code, out } = await run([file, "--format", "fluentbit"]);
    expect(code).toBe(1);
    expect(out).toMatch(/accepted 0 records, rejected 1/);
  }, 120_000);

  it.each([
    [[], /give one file/],
    [["f.json"], /--format is required/],
    [["f.json", "--format", "xml"], /unknown --format xml/],
    [["f.log", "--format", "text"], /needs --service/],
    [["f.pb", "--format", "otlp-proto"], /needs --signal/],
    [["f.json", "--demo"], /--demo takes no file/],
    [["--demo", "--days", "0"], /--days must be/],
    [["--bogus"], /Unknown option/],
  ])("answers usage errors with exit 2: %j", async (args, message) => {
    const { code, err } = await run(args as string[]);
    expect(code).toBe(2);
    expect(err).toMatch(message);
    expect(err).toMatch(/Usage: slo-scout ingest/);
  });

  it("names a missing file", async () => {
    const { code, err } = await run([join(dir, "missing.json"), "--format", "otlp-json"]);
    expect(code).toBe(1);
    expect(err).toMatch(/cannot read .*missing.json: ENOENT/);
  }, 120_000);
});
