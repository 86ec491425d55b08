import { readFileSync } from "node:fs";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AppContext, openApp } from "../../src/app/context.js";
import { status } from "../../src/app/status.js";
import { ConfigSchema } from "../../src/config.js";
import { Journey } from "../../src/core/journey.js";
import { Proposal } from "../../src/core/proposal.js";
import { saveProposal } from "../../src/store/repos/proposals.js";
import { touchServices, upsertJourneys } from "../../src/store/repos/services.js";

const recorded = JSON.parse(
  readFileSync(new URL("../fixtures/analysis/demo-checkout.json", import.meta.url), "utf8"),
) as { journeys: unknown[]; proposals: unknown[] };

describe("status", () => {
  let app: AppContext;
  beforeAll(async () => {
    app = await openApp(ConfigSchema.parse({ DATABASE_URL: "pglite://memory" }), {
      logger: pino({ level: "silent" }),
    });
  }, 60_000);
  afterAll(() => app?.close());

  it("counts each service's journeys and proposals by status, and says zero for a service with none", async () => {
    const journeys = recorded.journeys.map((j) => Journey.parse(j));
    const proposals = recorded.proposals.map((p) => Proposal.parse(p));
    const now = Date.now();
    const names = [...new Set([...journeys.map((j) => j.service), ...proposals.map((p) => p.service)])];
    await touchServices(app.sql, [
      ...names.map((name) => ({ name, first: now - 3 * 86_400_000, last: now, signals: ["span" as const] })),
      { name: "quiet", first: now, last: now, signals: ["log" as const] },
    ]);
    await upsertJourneys(app.sql, journeys);
    const rejected = proposals.find((p) => p.service === "checkout")!;
    for (const p of proposals)
      await saveProposal(app.sql, p.id === rejected.id ? { ...p, status: "rejected" } : p);

    const { services } = await status(app);
    for (const name of names) {
      const expected: Record<string, number> = {};
      for (const p of proposals.filter((x) => x.service === name)) {
        const st = p.id === rejected.id ? "rejected" : p.status;
        expected[st] = (expected[st] ?? 0) + 1;
      }
      expect(services.find((s) => s.name === name)).toMatchObject({
        journeys: journeys.filter((j) => j.service === name).length,
        proposals: expected,
        historyDays: 3,
      });
    }
    expect(services.find((s) => s.name === "checkout")!.proposals.rejected).toBe(1);
    expect(services.find((s) => s.name === "quiet")).toMatchObject({
      journeys: 0,
      proposals: {},
      historyDays: 0,
    });
  });
});
