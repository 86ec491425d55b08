import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { command } from "../../src/commands/blast-radius.js";

const FIXTURES = join(import.meta.dirname, "../fixtures/governance");

describe("slo-scout blast-radius", () => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  });

  it("prints the report and exits 1 when the repository's policy refuses the change set", async () => {
    vi.stubEnv("DATABASE_URL", "pglite://memory");
    const out: string[] = [];
    vi.spyOn(process.stdout, "write").mockImplementation((s) => out.push(String(s)) > 0);
    const code = await command.run([join(FIXTURES, "change"), "--against", join(FIXTURES, "repo")]);
    const text = out.join("");
    expect(text).toContain("Alerts: 1 added, 1 changed, 1 removed, 1 unchanged");
    expect(text).toContain('payments-pagerduty <- severity="page", team="payments": CheckoutAvailability');
    expect(text).toContain("[required-labels] alert InventoryReserveLatency lacks the required label team");
    expect(code).toBe(1);
  }, 180_000);

  it("refuses a missing directory with the usage", async () => {
    await expect(command.run(["/nonexistent/dir"])).rejects.toThrow(/not a directory/);
  });
});
