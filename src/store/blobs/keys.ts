/**
 * Blob keys are relative, slash-separated paths. They become file paths and S3 keys alike, so anything
 * that could escape the store's root is refused.
 */
export function checkKey(key: string): string {
  if (
    key.length === 0 ||
    key.length > 1024 ||
    key.startsWith("/") ||
    key.includes("\\") ||
    key.includes("\0") ||
    key.split("/").some((part) => part === "" || part === "." || part === "..")
  ) {
    throw new Error(
      `invalid blob key ${JSON.stringify(key)}: use a relative path like samples/checkout/1767607200000.jsonl.gz`,
    );
  }
  return key;
}

/** Where the redacted samples of one service-window live. */
export function samplesKey(service: string, windowStart: number): string {
  return `samples/${encodeURIComponent(service)}/${windowStart}.jsonl.gz`;
}
