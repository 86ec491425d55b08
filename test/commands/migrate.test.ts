import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { UsageError } from "../../src/commands/command.js";
import { command } from "../../src/commands/migrate.js";
import { loadMigrations } from "../../src/store/migrate.js";

const dir = mkdtempSync(join(tmpdir(), "slo-migrate-cmd-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("slo-scout migrate", () => {
  let out: string;
  const saved = process.env.DATABASE_URL;
  beforeEach(() => {
    out = "";
    vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
      out += String(chunk);
      return true;
    });
    process.env.DATABASE_URL = `pglite://${dir}/db`;
  });
  afterEach(() => {
    vi.restoreAllMocks();
    if (saved === undefined) delete process.env.DATABASE_URL;
    else process.env.DATABASE_URL = saved;
  });

  it("applies every migration once, then says it is up to date", async () => {
    const names = (await loadMigrations()).map((m) => m.name);
    expect(await command.run([])).toBe(0);
    expect(out.split("\n").filter((l) => l.startsWith("applied "))).toEqual(names.map((n) => `applied ${n}`));
    out = "";
    expect(await command.run([])).toBe(0);
    expect(out).toMatch(/^up to date$/m);
    expect(out).not.toMatch(/applied/);
  }, 180_000);

  it("rejects flags it does not know", async () => {
    await expect(command.run(["--force"])).rejects.toThrow(UsageError);
  });
});
