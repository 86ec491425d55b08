import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { UsageError } from "../../src/commands/command.js";
import { command } from "../../src/commands/generate.js";
import { validatePath } from "../../src/generators/validate/index.js";

const SPEC = `version: prometheus/v1
service: cart
slos:
  - name: requests-availability
    objective: 99.5
    sli:
      events:
        error_query: sum(rate(http_requests_total{job="cart",code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total{job="cart"}[{{.window}}]))
    alerting:
      name: CartAvailability
`;

describe("slo-scout generate --docs", () => {
  const dir = mkdtempSync(join(tmpdir(), "slo-scout-docs-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("writes a validated dashboard per service and a runbook per SLO next to the rules", async () => {
    writeFileSync(join(dir, "cart.yml"), SPEC);
    vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    const code = await command.run([join(dir, "cart.yml"), "--out", join(dir, "out"), "--docs"]);
    vi.restoreAllMocks();
    expect(code).toBe(0);
    const dashboard = JSON.parse(readFileSync(join(dir, "out/dashboards/cart.json"), "utf8"));
    expect(dashboard.title).toBe("SLOs / cart");
    expect(readFileSync(join(dir, "out/runbooks/cart/requests-availability.md"), "utf8")).toContain(
      "# requests-availability — cart",
    );
    const report = await validatePath(join(dir, "out"), { promtool: null });
    expect(report.checked.dashboard).toEqual(["dashboards/cart.json"]);
    expect(report.checked.runbook).toEqual(["runbooks/cart/requests-availability.md"]);
    expect(report.ok).toBe(true);
  }, 120_000);

  it("needs an output directory", async () => {
    await expect(command.run([join(dir, "cart.yml"), "--docs"])).rejects.toThrow(UsageError);
  });
});
