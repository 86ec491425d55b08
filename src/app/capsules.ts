import type { Capsule } from "../core/capsule.js";
import { getCapsule, listCapsules } from "../store/repos/capsules.js";
import type { AppContext } from "./context.js";
import { done, type Outcome, refuse } from "./outcome.js";

/** Log capsules as stored: a fingerprint's hourly aggregate with its redacted samples. */

/** A stored capsule as it is shown: its samples (redacted before they were stored), no embedding. */
export type CapsuleView = Omit<Capsule, "embedding">;

const shown = ({ embedding: _embedding, ...rest }: Capsule): CapsuleView => rest;

/** Capsules (a fingerprint's hourly aggregate), newest windows first, then the most frequent. */
export async function capsules(
  app: AppContext,
  q: { service?: string; since?: number; until?: number; limit: number },
): Promise<CapsuleView[]> {
  return (await listCapsules(app.sql, q)).map(shown);
}

export async function capsule(app: AppContext, id: string): Promise<Outcome<CapsuleView>> {
  const found = await getCapsule(app.sql, id);
  return found
    ? done(shown(found))
    : refuse("unknown-id", `no capsule ${id} (ids are fingerprint:windowStart)`);
}
