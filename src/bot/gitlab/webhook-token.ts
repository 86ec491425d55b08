import { createHash, timingSafeEqual } from "node:crypto";

/**
 * GitLab sends the webhook's secret token verbatim in `X-Gitlab-Token` (no signature), so the check is a
 * comparison that must not leak, through its timing, how much of a guess was right: both sides are hashed
 * to the same length first and compared with `timingSafeEqual`. A missing header never matches.
 */
export function gitlabTokenMatches(secret: string, header: string | string[] | undefined): boolean {
  if (typeof header !== "string" || header === "") return false;
  const digest = (s: string) => createHash("sha256").update(s, "utf8").digest();
  return timingSafeEqual(digest(secret), digest(header));
}
