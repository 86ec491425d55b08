import type { ConfigFileError } from "../core/config-file.js";

/**
 * What a use case returns: its value, or a refusal a person can act on. Refusals are expected outcomes
 * (an unknown id, a decision already taken, a policy that says no), so they are data with a code a chat
 * can branch on and a reason it can show, never a thrown string. Bugs and outages still throw.
 */
export type RefusalCode =
  | "unknown-id"
  | "unknown-service"
  | "already-decided"
  | "unauthorized"
  | "policy"
  | "validation-failed"
  | "not-enough-history"
  | "bad-request"
  /** The approval was recorded, and the policy asks for another approver before the change opens. */
  | "awaiting-approval"
  /** Another conversation's approval holds the service (its change is still open). */
  | "locked"
  /** The repository's SLO-Scout file (policy, `.github/slo-scout.yml`) is not valid; the reason names its line. */
  | "invalid-config"
  /** Not the asker's doing: an outage or a bug; the reply carries a correlation id for the log. */
  | "internal";

export interface Refusal {
  code: RefusalCode;
  /** One or two sentences for a person: what is wrong and what to do. */
  reason: string;
  /** The individual messages behind the reason (validator output, policy violations). */
  details?: string[];
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; refusal: Refusal };

export const done = <T>(value: T): Outcome<T> => ({ ok: true, value });

export const refuse = <T = never>(code: RefusalCode, reason: string, details?: string[]): Outcome<T> => ({
  ok: false,
  refusal: { code, reason, ...(details && details.length > 0 ? { details } : {}) },
});

/** A repository file that cannot be used, as the refusal every face shows: the file, the line and the fix. */
export const refuseConfigFile = <T = never>(err: ConfigFileError): Outcome<T> =>
  refuse(
    "invalid-config",
    `${err.message}. Fix it on the default branch and try again; nothing was changed.`,
  );
