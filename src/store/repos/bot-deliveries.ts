import type { Sql } from "../ports.js";

/** How long a delivery id is remembered; hosts redeliver within hours, by hand within days. */
export const DELIVERY_MEMORY_MS = 7 * 24 * 3600_000;

/**
 * Records that work started for a webhook delivery. True the first time a (host, id) is claimed, false for
 * a redelivery or a retry of it, which must start nothing. Atomic across processes (one INSERT … ON
 * CONFLICT), so two servers receiving the same redelivery start one job between them.
 */
export async function claimDelivery(
  sql: Sql,
  delivery: { host: string; id: string; now: number },
): Promise<boolean> {
  if (!delivery.host || !delivery.id) throw new Error("a delivery needs a host and an id");
  const { rowCount } = await sql.query(
    `INSERT INTO bot_deliveries (host, delivery_id, received_at) VALUES ($1, $2, $3)
     ON CONFLICT (host, delivery_id) DO NOTHING`,
    [delivery.host, delivery.id, Math.floor(delivery.now)],
  );
  if (rowCount > 0) {
    await sql.query("DELETE FROM bot_deliveries WHERE received_at < $1", [
      Math.floor(delivery.now - DELIVERY_MEMORY_MS),
    ]);
  }
  return rowCount > 0;
}
