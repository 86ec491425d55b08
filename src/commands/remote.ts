import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Config, usesEmbeddedDatabase } from "../config.js";

/**
 * The CLI as a client of a running server. A server on the embedded database holds it (PGlite admits one
 * process), so `serve` leaves its address in `<DATA_DIR>/server.json` and the commands that read or
 * decide (analyze, chat, capsules, simulate) call its REST API instead of opening the database. An
 * explicit SLO_SCOUT_URL (with SLO_SCOUT_TOKEN) points them at any server.
 */

export interface Remote {
  url: string;
  token?: string;
}

const SERVER_FILE = "server.json";

/** Written by `serve` once it listens on the embedded database; removed when it closes. */
export function announceServer(config: Config, url: string): () => void {
  if (!usesEmbeddedDatabase(config)) return () => {};
  const file = join(config.DATA_DIR, SERVER_FILE);
  writeFileSync(file, `${JSON.stringify({ url, pid: process.pid })}\n`);
  return () => rmSync(file, { force: true });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The server to call, or undefined when the command should open the database itself. */
export function remoteServer(config: Config): Remote | undefined {
  const token = config.SLO_SCOUT_TOKEN ? { token: config.SLO_SCOUT_TOKEN } : {};
  if (config.SLO_SCOUT_URL) return { url: config.SLO_SCOUT_URL.replace(/\/+$/, ""), ...token };
  if (!usesEmbeddedDatabase(config)) return undefined;
  let found: { url?: unknown; pid?: unknown };
  try {
    found = JSON.parse(readFileSync(join(config.DATA_DIR, SERVER_FILE), "utf8"));
  } catch {
    return undefined;
  }
  if (typeof found.url !== "string" || typeof found.pid !== "number" || !alive(found.pid)) return undefined;
  return { url: found.url, ...token };
}

/** A refusal or error the server answered with: its status, code and message. */
export class RemoteError extends Error {
  override name = "RemoteError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** One call of the server's /api/v1; the error body becomes a RemoteError. */
export async function callApi<T>(
  remote: Remote,
  method: "GET" | "POST",
  path: string,
  body?: unknown,
): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`${remote.url}/api/v1${path}`, {
      method,
      headers: {
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
        ...(remote.token ? { authorization: `Bearer ${remote.token}` } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch (err) {
    throw new RemoteError(
      0,
      "unreachable",
      `the server at ${remote.url} does not answer (${(err as Error).message})`,
    );
  }
  const json = (await res.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
  if (!res.ok)
    throw new RemoteError(
      res.status,
      json.error?.code ?? "error",
      json.error?.message ?? `the server at ${remote.url} answered ${res.status}`,
    );
  return json as T;
}
