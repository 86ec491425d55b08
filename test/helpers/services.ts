import { connect } from "node:net";

/**
 * Integration tests run against real services when they answer. Locally a missing service skips the
 * test with one line saying why; in CI (`CI=true`) a missing service is a failure, so the suite cannot
 * pass green while silently testing nothing.
 */

const inCi = () => process.env.CI === "true";

/**
 * Returns true when the service answered the probe. When it did not: throws in CI, otherwise prints one
 * line naming the service and the reason and returns false (the caller skips).
 */
export async function requireService(name: string, probe: () => Promise<unknown>): Promise<boolean> {
  try {
    await probe();
    return true;
  } catch (err) {
    const reason = (err as Error)?.message?.split("\n")[0] || String(err);
    if (inCi()) throw new Error(`${name} is required when CI=true but is unreachable: ${reason}`);
    process.stderr.write(`[skip] ${name} unreachable (${reason}); its tests are skipped\n`);
    return false;
  }
}

/** The Postgres the store tests use: TEST_DATABASE_URL, else DATABASE_URL when it is a postgres URL. */
export function postgresUrl(): string {
  const test = process.env.TEST_DATABASE_URL;
  if (test) return test;
  const db = process.env.DATABASE_URL;
  if (db && /^postgres(ql)?:\/\//.test(db)) return db;
  return "postgres://postgres@127.0.0.1:5432/test";
}

/** Redis for queue tests: TEST_REDIS_URL ?? REDIS_URL ?? the local default. */
export function redisUrl(): string {
  return process.env.TEST_REDIS_URL ?? process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
}

/** Resolves when a TCP connection to host:port opens within `timeoutMs`; a cheap probe for any server. */
export function tcpProbe(host: string, port: number, timeoutMs = 1000): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer from ${host}:${port} within ${timeoutMs}ms`));
    }, timeoutMs);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.end();
      resolve();
    });
    socket.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/**
 * For a suite that depends on something optional (a corpus, a binary): returns `missing` and, when it is
 * true, prints one line saying what is skipped and why, so no skip goes unexplained.
 */
export function skipping(missing: boolean, what: string, reason: string): boolean {
  if (missing) process.stderr.write(`[skip] ${what}: ${reason}\n`);
  return missing;
}
