import { Journey, type Service } from "../../core/journey.js";
import { Slo } from "../../core/slo.js";
import type { Sql } from "../ports.js";

/** Services seen in telemetry, the journeys found for them and the SLOs adopted. */

type Signal = Service["signals"][number];

/** Records that `name` sent `signals` at `seenAt`: widens first/last seen and merges the signal set. */
export async function touchService(
  sql: Sql,
  name: string,
  seenAt: number,
  signals: Signal[] = [],
): Promise<void> {
  await touchServices(sql, [{ name, first: seenAt, last: seenAt, signals }]);
}

export interface ServiceSighting {
  name: string;
  first: number;
  last: number;
  signals: Signal[];
}

/**
 * touchService for many services in one statement (the stream stage records every service of a batch:
 * one round trip each cost 3 s of the 8-day demo's load).
 */
export async function touchServices(sql: Sql, sightings: ServiceSighting[]): Promise<void> {
  // One row per name: an upsert may not touch a row twice.
  const rows = new Map<string, { name: string; first_seen: number; last_seen: number; signals: Signal[] }>();
  for (const s of sightings) {
    if (!s.name) throw new Error("a service needs a name");
    const seen = rows.get(s.name);
    rows.set(s.name, {
      name: s.name,
      first_seen: Math.floor(Math.min(s.first, seen?.first_seen ?? s.first)),
      last_seen: Math.floor(Math.max(s.last, seen?.last_seen ?? s.last)),
      signals: [...new Set([...(seen?.signals ?? []), ...s.signals])],
    });
  }
  if (rows.size === 0) return;
  await sql.query(
    `INSERT INTO services (name, first_seen, last_seen, signals)
     SELECT name, first_seen, last_seen, signals
       FROM jsonb_to_recordset($1::jsonb) AS r(name text, first_seen bigint, last_seen bigint, signals jsonb)
     ON CONFLICT (name) DO UPDATE SET
       first_seen = LEAST(services.first_seen, EXCLUDED.first_seen),
       last_seen = GREATEST(services.last_seen, EXCLUDED.last_seen),
       signals = (SELECT coalesce(jsonb_agg(DISTINCT s ORDER BY s), '[]'::jsonb)
                    FROM jsonb_array_elements_text(services.signals || EXCLUDED.signals) AS s)`,
    [JSON.stringify([...rows.values()])],
  );
}

interface ServiceRow {
  name: string;
  first_seen: number | null;
  last_seen: number | null;
  signals: Signal[];
}

const fromRow = (r: ServiceRow): Service => ({
  name: r.name,
  ...(r.first_seen !== null ? { firstSeen: r.first_seen } : {}),
  ...(r.last_seen !== null ? { lastSeen: r.last_seen } : {}),
  signals: r.signals,
});

export async function getService(sql: Sql, name: string): Promise<Service | undefined> {
  const { rows } = await sql.query<ServiceRow>("SELECT * FROM services WHERE name = $1", [name]);
  return rows[0] && fromRow(rows[0]);
}

export async function listServices(sql: Sql): Promise<Service[]> {
  const { rows } = await sql.query<ServiceRow>("SELECT * FROM services ORDER BY name");
  return rows.map(fromRow);
}

/** Replaces the stored journeys of `service` with the ones just discovered. */
export async function replaceJourneys(
  sql: Sql,
  service: string,
  journeys: Journey[],
  now = Date.now(),
): Promise<void> {
  const parsed = journeys.map((j) => Journey.parse(j));
  const foreign = parsed.find((j) => j.service !== service);
  if (foreign) throw new Error(`journey ${foreign.key} belongs to ${foreign.service}, not ${service}`);
  await sql.transaction(async (tx) => {
    await tx.query("DELETE FROM journeys WHERE service = $1", [service]);
    if (parsed.length === 0) return;
    await tx.query(
      `INSERT INTO journeys (key, service, data, updated_at)
       SELECT key, $2, data, $3 FROM jsonb_to_recordset($1::jsonb) AS r(key text, data jsonb)
       ON CONFLICT (key) DO UPDATE SET service = EXCLUDED.service, data = EXCLUDED.data, updated_at = EXCLUDED.updated_at`,
      [JSON.stringify(parsed.map((j) => ({ key: j.key, data: j }))), service, now],
    );
  });
}

/** Adds or updates journeys of any services, leaving their other journeys in place. */
export async function upsertJourneys(sql: Sql, journeys: Journey[], now = Date.now()): Promise<void> {
  if (journeys.length === 0) return;
  const parsed = journeys.map((j) => Journey.parse(j));
  await sql.query(
    `INSERT INTO journeys (key, service, data, updated_at)
     SELECT key, service, data, $2 FROM jsonb_to_recordset($1::jsonb) AS r(key text, service text, data jsonb)
     ON CONFLICT (key) DO UPDATE SET service = EXCLUDED.service, data = EXCLUDED.data, updated_at = EXCLUDED.updated_at`,
    [JSON.stringify(parsed.map((j) => ({ key: j.key, service: j.service, data: j }))), now],
  );
}

/** How many journeys each service has, without reading them. */
export async function countJourneys(sql: Sql): Promise<Map<string, number>> {
  const { rows } = await sql.query<{ service: string; count: number }>(
    "SELECT service, count(*)::int AS count FROM journeys GROUP BY service",
  );
  return new Map(rows.map((r) => [r.service, r.count]));
}

/** Highest score first. */
export async function listJourneys(sql: Sql, service?: string): Promise<Journey[]> {
  const { rows } = await sql.query<{ data: unknown }>(
    `SELECT data FROM journeys WHERE ($1::text IS NULL OR service = $1)
      ORDER BY (data ->> 'score')::float8 DESC, key`,
    [service ?? null],
  );
  return rows.map((r) => Journey.parse(r.data));
}

export async function saveSlo(sql: Sql, slo: Slo, now = Date.now()): Promise<void> {
  const s = Slo.parse(slo);
  await sql.query(
    `INSERT INTO slos (id, service, data, updated_at) VALUES ($1, $2, $3::jsonb, $4)
     ON CONFLICT (id) DO UPDATE SET service = EXCLUDED.service, data = EXCLUDED.data, updated_at = EXCLUDED.updated_at`,
    [s.id, s.service, JSON.stringify(s), now],
  );
}

export async function listSlos(sql: Sql, service?: string): Promise<Slo[]> {
  const { rows } = await sql.query<{ data: unknown }>(
    "SELECT data FROM slos WHERE ($1::text IS NULL OR service = $1) ORDER BY id",
    [service ?? null],
  );
  return rows.map((r) => Slo.parse(r.data));
}
