import { timingSafeEqual } from "node:crypto";

/**
 * INGEST_TOKEN: whether an `Authorization` header (HTTP) or metadata value (gRPC) carries the receivers'
 * bearer token. Compared in constant time, so the answer's timing does not reveal how much of it matched.
 */
export function ingestTokenMatches(authorization: string | undefined, token: string): boolean {
  const given = authorization ? /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1] : undefined;
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}
