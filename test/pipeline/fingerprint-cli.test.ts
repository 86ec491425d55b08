import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { main } from "../../src/cli.js";
import { parseCsv } from "../../src/pipeline/fingerprint/csv.js";

const dir = mkdtempSync(join(tmpdir(), "fp-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const o = vi.spyOn(process.stdout, "write").mockImplementation((c) => {
    out += String(c);
    return true;
  });
  const e = vi.spyOn(process.stderr, "write").mockImplementation((c) => {
    err += String(c);
    return true;
  });
  try {
    const code = await main(args);
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

describe("slo-scout fingerprint", () => {
  it("prints LineId,EventId,EventTemplate per input line, in order, as RFC-4180 CSV", async () => {
    const input = file(
      "a.log",
      [
        "Received block blk_1 of size 67108864 from /10.0.0.1",
        'user "x" said: hello, world 42',
        "Received block blk_2 of size 1024 from /10.0.0.2",
        "",
      ].join("\n"),
    );
    const { code, out } = await run(["fingerprint", input, "--service", "hdfs"]);
    expect(code).toBe(0);
    const rows = parseCsv(out);
    expect(rows[0]).toEqual(["LineId", "EventId", "EventTemplate"]);
    expect(rows.slice(1).map((r) => r[0])).toEqual(["1", "2", "3"]);
    expect(rows[1]![2]).toBe("Received block <*> of size <*> from <*>");
    expect(rows[1]![1]).toMatch(/^[0-9a-f]{64}$/);
    expect(rows[3]![1]).toBe(rows[1]![1]);
    expect(rows[2]![2]).toBe('user "x" said: hello, world <*>');
    expect(out).toContain('"user ""x"" said: hello, world <*>"');
  });

  it("strips headers with --raw and writes JSONL with redacted messages with --out jsonl", async () => {
    const input = file(
      "raw.log",
      [
        "2024-01-05 10:00:00,123 INFO [main] com.shop.Cart: order 1 paid by ann@example.com",
        "2024-01-05 10:00:01,456 WARN [worker-2] com.shop.Cart: order 2 paid by bob@example.com",
      ].join("\n"),
    );
    const { code, out } = await run(["fingerprint", input, "--raw", "--out", "jsonl"]);
    expect(code).toBe(0);
    const lines = out
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      lineId: 1,
      template: "order <*> paid by <*>",
      message: "order 1 paid by <EMAIL>",
    });
    expect(lines[1].fingerprint).toBe(lines[0].fingerprint);
    expect(out).not.toContain("example.com");
  });

  it("depends on the service for the fingerprint but not for the template", async () => {
    const input = file("s.log", "disk full\n");
    const a = parseCsv((await run(["fingerprint", input, "--service", "a"])).out);
    const b = parseCsv((await run(["fingerprint", input, "--service", "b"])).out);
    expect(a[1]![2]).toBe(b[1]![2]);
    expect(a[1]![1]).not.toBe(b[1]![1]);
  });

  it("prints only the header for an empty input", async () => {
    const { code, out } = await run(["fingerprint", file("empty.log", "")]);
    expect(code).toBe(0);
    expect(out).toBe("LineId,EventId,EventTemplate\n");
  });

  it("rejects bad usage with exit code 2 and the usage text", async () => {
    for (const args of [
      ["fingerprint"],
      ["fingerprint", "x", "--out", "xml"],
      ["fingerprint", "x", "--bogus"],
    ]) {
      const { code, err } = await run(args);
      expect(code).toBe(2);
      expect(err).toContain("Usage: slo-scout fingerprint");
    }
  });

  it("reports a missing file with exit code 1", async () => {
    const { code, err } = await run(["fingerprint", join(dir, "nope.log")]);
    expect(code).toBe(1);
    expect(err).toContain("no such file");
  });
});
