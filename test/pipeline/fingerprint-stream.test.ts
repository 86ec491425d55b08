import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { fingerprintBatch } from "../../src/pipeline/fingerprint/batch.js";
import { fingerprintFile, SPOOL_CHUNK } from "../../src/pipeline/fingerprint/stream.js";
import { createRedactor } from "../../src/pipeline/redact.js";

const dir = mkdtempSync(join(tmpdir(), "fp-stream-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Later lines generalise earlier ones (the state word becomes an enumeration, the block id a variable),
// with a JSON line, an empty line, a tab in a message and PII to redact.
const LINES = [
  "2024-01-01 10:00:00 INFO worker state changed to RUNNING",
  "2024-01-01 10:00:01 INFO Receiving block blk_1001 src: /10.0.0.1:500 dest: /10.0.0.2:50010",
  "2024-01-01 10:00:02 INFO worker state changed to STOPPED",
  "",
  '{"level":"error","message":"payment for alice@example.com failed\\twith code 502"}',
  "2024-01-01 10:00:03 INFO Receiving block blk_1002 src: /10.0.0.3:501 dest: /10.0.0.4:50010",
  "2024-01-01 10:00:04 INFO worker state changed to RUNNING",
  "2024-01-01 10:00:05 WARN worker state changed to PAUSED",
];

describe("fingerprintFile (the two-pass stream behind slo-scout fingerprint)", () => {
  it("gives every line what fingerprintBatch gives it, in order, with \\n or \\r\\n endings", () => {
    const redactor = createRedactor();
    const expected = fingerprintBatch(LINES, { raw: true, redactor, service: "svc" });
    for (const [name, eol] of [
      ["lf.log", "\n"],
      ["crlf.log", "\r\n"],
    ] as const) {
      const input = join(dir, name);
      writeFileSync(input, `${LINES.join(eol)}${eol}`);
      const got = [
        ...fingerprintFile(input, join(dir, `${name}.spool`), {
          raw: true,
          redactor,
          service: "svc",
          withMessage: true,
        }),
      ];
      expect(got).toEqual(expected);
    }
    // The two block lines share a template mined from both; the state word stays a word of the template.
    expect(expected[1]!.fingerprint).toBe(expected[5]!.fingerprint);
    expect(expected[6]!.template).toBe(expected[0]!.template);
    expect(expected[2]!.template).toMatch(/STOPPED$/);
    expect(expected.map((r) => r.message).join("\n")).not.toContain("alice@example.com");
  });

  it("keeps lines longer than a read and characters cut between reads whole, in input and spools", () => {
    // The input and the scratch files are read SPOOL_CHUNK bytes at a time: two-byte characters from an
    // odd offset put the end of a read in the middle of one (the message spool's reads once decoded each
    // half as U+FFFD), lines of 2 and 6 reads outgrow the buffer, and the file ends without a line break.
    const lines = [
      "xy",
      `state ${"é".repeat(SPOOL_CHUNK)} RUNNING`,
      `${"ü".repeat(3 * SPOOL_CHUNK)} done`,
      "state élan STOPPED",
      "",
      "worker 7 stopped",
    ];
    const input = join(dir, "long.log");
    writeFileSync(input, lines.join("\n"));
    const got = [...fingerprintFile(input, join(dir, "long.spool"), { withMessage: true })];
    expect(got).toEqual(fingerprintBatch(lines));
    expect(got[2]!.message).toHaveLength(3 * SPOOL_CHUNK + 5);
  });

  it("reads standard input through `slo-scout fingerprint -`", () => {
    const run = spawnSync(process.execPath, ["bin/slo-scout.js", "fingerprint", "-", "--raw"], {
      input: `${LINES.join("\n")}\n`,
      encoding: "utf8",
    });
    expect(run.status).toBe(0);
    const rows = run.stdout.trim().split("\n");
    expect(rows[0]).toBe("LineId,EventId,EventTemplate");
    expect(rows).toHaveLength(LINES.length + 1);
    const expected = fingerprintBatch(LINES, { raw: true, redactor: createRedactor() });
    expect(rows.slice(1).map((r) => r.split(",")[1])).toEqual(expected.map((r) => r.fingerprint));
  });
});
