import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Journey } from "../../src/core/journey.js";
import { journeysThrough } from "../../src/store/repos/journeys.js";
import { replaceJourneys } from "../../src/store/repos/services.js";
import { availableEngines, OPEN_TIMEOUT_MS, type TestDb } from "./engines.js";

/** The checkout journeys `analyze checkout` found on the demo shop: entered at checkout, api-gateway and frontend. */
const journeys = (
  JSON.parse(readFileSync(join(import.meta.dirname, "../fixtures/analysis/demo-checkout.json"), "utf8")) as {
    journeys: Journey[];
  }
).journeys;

for (const engine of await availableEngines()) {
  describe(`journeys through a service on ${engine.name}`, () => {
    let db: TestDb;
    beforeAll(async () => {
      db = await engine.open();
      for (const j of journeys) await replaceJourneys(db.sql, j.service, [j]);
    }, OPEN_TIMEOUT_MS);
    afterAll(() => db?.drop());

    const keys = async (services: string[]) =>
      (await journeysThrough(db.sql, services)).map((j) => j.key).sort();

    it("finds the journeys entered at a service and those calling it anywhere on their path", async () => {
      expect(await keys(["checkout"])).toEqual([
        "api-gateway POST /api/checkout",
        "checkout POST /checkout",
        "frontend POST /api/checkout",
      ]);
      expect(await keys(["payment"])).toHaveLength(3);
      expect(await keys(["api-gateway"])).toEqual([
        "api-gateway POST /api/checkout",
        "frontend POST /api/checkout",
      ]);
    });

    it("reads them back whole, best first, and none for an unknown service or no service", async () => {
      const found = await journeysThrough(db.sql, ["frontend", "nobody"]);
      expect(found).toEqual(journeys.filter((j) => j.key === "frontend POST /api/checkout"));
      const all = await journeysThrough(db.sql, ["checkout"]);
      expect(all.map((j) => j.score)).toEqual([...all.map((j) => j.score)].sort((a, b) => b - a));
      expect(await journeysThrough(db.sql, ["nobody"])).toEqual([]);
      expect(await journeysThrough(db.sql, [])).toEqual([]);
    });

    it("uses the migration's index on the downstream calls", async () => {
      const { rows } = await db.sql.query<{ indexname: string }>(
        "SELECT indexname FROM pg_indexes WHERE tablename = 'journeys' AND schemaname = current_schema()",
      );
      expect(rows.map((r) => r.indexname)).toContain("journeys_downstream");
    });
  });
}
