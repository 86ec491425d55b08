import { HttpError } from "../errors.js";

/**
 * Cursor pagination for the lists of /api/v1. A cursor is opaque to clients (base64url JSON); it holds the
 * position in the list's stable order (every list is ordered by its use case), so a page never repeats or
 * skips an item of an unchanged list.
 */

export interface Cursor {
  offset: number;
  limit: number;
}

export const DEFAULT_LIMIT = 50;

export function readCursor(q: { cursor?: string | undefined; limit?: number | undefined }): Cursor {
  const limit = q.limit ?? DEFAULT_LIMIT;
  if (q.cursor === undefined) return { offset: 0, limit };
  let offset: unknown;
  try {
    offset = (JSON.parse(Buffer.from(q.cursor, "base64url").toString("utf8")) as { o?: unknown }).o;
  } catch {
    offset = undefined;
  }
  if (typeof offset !== "number" || !Number.isSafeInteger(offset) || offset < 0)
    throw new HttpError(400, "bad_cursor", "cursor is not one this API gave out; start again without it");
  return { offset, limit };
}

const writeCursor = (offset: number) => Buffer.from(JSON.stringify({ o: offset })).toString("base64url");

/** One page of `all` (which may hold more than the page, e.g. offset + limit + 1 rows of a query). */
export function pageOf<T>(all: readonly T[], c: Cursor): { items: T[]; nextCursor?: string } {
  const items = all.slice(c.offset, c.offset + c.limit);
  return all.length > c.offset + c.limit ? { items, nextCursor: writeCursor(c.offset + c.limit) } : { items };
}
