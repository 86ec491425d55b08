import { Journey } from "../../core/journey.js";
import type { Sql } from "../ports.js";

/**
 * Journeys by the services they pass through: entered at one of them or calling one anywhere along the
 * path (what an SLO of that service covers). Highest score first. Journeys are written by analysis
 * (services.ts: replaceJourneys for a service's own, upsertJourneys for those entered elsewhere).
 */
export async function journeysThrough(sql: Sql, services: string[]): Promise<Journey[]> {
  if (services.length === 0) return [];
  const { rows } = await sql.query<{ data: unknown }>(
    `WITH wanted AS (SELECT jsonb_array_elements_text($1::jsonb) AS service)
     SELECT data FROM journeys j
      WHERE j.service IN (SELECT service FROM wanted)
         OR EXISTS (SELECT 1 FROM wanted w
                     WHERE j.data -> 'downstream' @> jsonb_build_array(jsonb_build_object('to', w.service)))
      ORDER BY (data ->> 'score')::float8 DESC, key`,
    [JSON.stringify(services)],
  );
  return rows.map((r) => Journey.parse(r.data));
}
