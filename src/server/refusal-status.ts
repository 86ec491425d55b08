import type { RefusalCode } from "../app/outcome.js";

/** The HTTP status of a use case's refusal, the same for the REST API and the web console. */
const STATUS: Record<RefusalCode, number> = {
  "unknown-id": 404,
  "unknown-service": 404,
  "already-decided": 409,
  locked: 409,
  // Accepted: the approval is recorded, the change waits for a second approver.
  "awaiting-approval": 202,
  unauthorized: 403,
  policy: 422,
  "validation-failed": 422,
  "invalid-config": 422,
  "not-enough-history": 422,
  "bad-request": 400,
  internal: 500,
};

export const refusalStatus = (code: RefusalCode): number => STATUS[code];
