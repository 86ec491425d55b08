import type { Config } from "../config.js";
import type { Sql } from "./ports.js";

/**
 * Chooses each store's adapter from the config alone (mostly a URL scheme). Each opener is separate so a
 * process opens only what it needs; `openStores` opens the three data stores together.
 */

/** PGlite for `pglite://…` (embedded default), a `pg` pool for `postgres://…`. */
export async function openSql(config: Pick<Config, "DATABASE_URL">): Promise<Sql> {
  const url = config.DATABASE_URL;
  if (url.startsWith("pglite://")) {
    const { openPglite } = await import("./sql/pglite.js");
    return openPglite(url);
  }
  if (url.startsWith("postgres://") || url.startsWith("postgresql://")) {
    const { openPostgres } = await import("./sql/postgres.js");
    return openPostgres(url);
  }
  throw new Error(`DATABASE_URL must start with pglite:// or postgres:// (e.g. pglite://./.slo-scout/db)`);
}
