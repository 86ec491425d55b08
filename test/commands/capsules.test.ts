import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { command, summarize } from "../../src/commands/capsules.js";
import type { Capsule } from "../../src/core/capsule.js";
import { migrate } from "../../src/store/migrate.js";
import { upsertCapsules } from "../../src/store/repos/capsules.js";
import { touchService } from "../../src/store/repos/services.js";
import { openPglite } from "../../src/store/sql/pglite.js";

const HOUR = 3_600_000;
const fp = (c: string) => c.repeat(64);
const capsule = (f: string, windowStart: number, count: number, sample: string): Capsule => ({
  service: "payment",
  fingerprint: fp(f),
  template: `template ${f}`,
  windowStart,
  count,
  severityCounts: { trace: 0, debug: 0, info: 0, warn: 0, error: count, fatal: 0 },
  firstSeen: windowStart + 1,
  lastSeen: windowStart + 2,
  samples: [sample],
});

describe("summarize", () => {
  it("folds hourly capsules into one row per fingerprint, most frequent first", () => {
    const rows = summarize([capsule("a", 0, 2, "x"), capsule("b", 0, 5, "y"), capsule("a", HOUR, 4, "z")]);
    expect(rows.map((r) => [r.template, r.count, r.windows, r.severityCounts.error])).toEqual([
      ["template a", 6, 2, 6],
      ["template b", 5, 1, 5],
    ]);
    expect(rows[0]?.samples).toEqual(["z", "x"]);
  });
});

describe("slo-scout capsules", () => {
  let dir: string;
  const out: string[] = [];
  const err: string[] = [];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "slo-scout-capsules-"));
    vi.stubEnv("DATABASE_URL", `pglite://${dir}`);
    const sql = await openPglite(`pglite://${dir}`);
    await migrate(sql);
    const now = Date.now();
    const window = now - (now % HOUR);
    await upsertCapsules(sql, [
      capsule("a", window, 3, "card <CARD> declined"),
      capsule("b", window - 48 * HOUR, 9, "old"),
    ]);
    await touchService(sql, "payment", now, ["log"]);
    await sql.close();
    vi.spyOn(process.stdout, "write").mockImplementation((s) => out.push(String(s)) > 0);
    vi.spyOn(process.stderr, "write").mockImplementation((s) => err.push(String(s)) > 0);
  }, 180_000);
  afterAll(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
    rmSync(dir, { recursive: true, force: true });
  });

  it("lists recent templates with counts and samples, and names known services for an unknown one", async () => {
    expect(await command.run(["payment", "--since", "24h"])).toBe(0);
    const text = out.join("");
    expect(text).toContain("template a");
    expect(text).toContain("e.g. card <CARD> declined");
    expect(text).not.toContain("template b");
    out.length = 0;
    expect(await command.run(["checkout"])).toBe(1);
    expect(err.join("")).toContain("known services: payment");
    await expect(command.run(["payment", "--since", "soon"])).rejects.toThrow(/not a duration/);
  }, 180_000);
});
