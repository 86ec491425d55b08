import { type Config, loadConfig } from "../config.js";
import type { Capsule } from "../core/capsule.js";
import { parseDuration } from "../core/duration.js";
import { migrate } from "../store/migrate.js";
import { openSql } from "../store/open.js";
import { listCapsules } from "../store/repos/capsules.js";
import { listServices } from "../store/repos/services.js";
import { type Command, parseFlags, UsageError } from "./command.js";
import { callApi, type Remote, RemoteError, remoteServer } from "./remote.js";

const USAGE = [
  "Usage: slo-scout capsules <service> [--since 24h] [--limit 20] [--json]",
  "",
  "Lists the service's log fingerprints (capsules) seen since the given time: per template the event",
  "count, the severities, how many hourly windows it appeared in, and a few redacted sample lines.",
  "",
  "Options:",
  "  --since DURATION  how far back to look (default 24h; e.g. 30m, 7d)",
  "  --limit N         most templates to show, most frequent first (default 20)",
  "  --json            print the capsules as JSON",
].join("\n");

export interface TemplateSummary {
  fingerprint: string;
  template: string;
  count: number;
  windows: number;
  severityCounts: Record<string, number>;
  firstSeen: number;
  lastSeen: number;
  samples: string[];
  capsuleIds: string[];
}

/** Folds a service's hourly capsules into one row per fingerprint, most frequent first. */
export function summarize(capsules: Capsule[]): TemplateSummary[] {
  const byFp = new Map<string, TemplateSummary>();
  for (const c of [...capsules].sort((a, b) => b.windowStart - a.windowStart)) {
    let s = byFp.get(c.fingerprint);
    if (!s) {
      s = {
        fingerprint: c.fingerprint,
        template: c.template,
        count: 0,
        windows: 0,
        severityCounts: {},
        firstSeen: c.firstSeen,
        lastSeen: c.lastSeen,
        samples: [],
        capsuleIds: [],
      };
      byFp.set(c.fingerprint, s);
    }
    s.count += c.count;
    s.windows++;
    s.firstSeen = Math.min(s.firstSeen, c.firstSeen);
    s.lastSeen = Math.max(s.lastSeen, c.lastSeen);
    for (const [sev, n] of Object.entries(c.severityCounts)) {
      if (n) s.severityCounts[sev] = (s.severityCounts[sev] ?? 0) + n;
    }
    for (const sample of c.samples)
      if (s.samples.length < 3 && !s.samples.includes(sample)) s.samples.push(sample);
    if (c.id) s.capsuleIds.push(c.id);
  }
  return [...byFp.values()].sort((a, b) => b.count - a.count || a.fingerprint.localeCompare(b.fingerprint));
}

export const command: Command = {
  usage: USAGE,
  async run(args) {
    const parsed = parseFlags({
      args,
      options: {
        since: { type: "string", default: "24h" },
        limit: { type: "string", default: "20" },
        json: { type: "boolean" },
      },
      allowPositionals: true,
    });
    const [service, ...extra] = parsed.positionals;
    if (!service || extra.length > 0) throw new UsageError("name exactly one service");
    const sinceMs = parseDuration(parsed.values.since!);
    if (sinceMs === undefined)
      throw new UsageError(`--since ${JSON.stringify(parsed.values.since)} is not a duration (e.g. 24h, 7d)`);
    const limit = Number(parsed.values.limit);
    if (!Number.isInteger(limit) || limit < 1)
      throw new UsageError("--limit must be a positive whole number");

    const config = loadConfig();
    const remote = remoteServer(config);
    const store = remote ? remoteStore(remote) : await localStore(config);
    try {
      const since = Date.now() - sinceMs;
      const capsules = await store.capsules(service, since - 3_600_000);
      const rows = summarize(capsules.filter((c) => c.lastSeen >= since)).slice(0, limit);
      if (rows.length === 0) {
        const known = await store.services();
        const hint = known.includes(service)
          ? `no log events for ${service} in the last ${parsed.values.since}; try a longer --since`
          : `no service named ${service}${known.length ? `; known services: ${known.join(", ")}` : "; nothing ingested yet (try slo-scout ingest --demo)"}`;
        if (parsed.values.json) process.stdout.write("[]\n");
        process.stderr.write(`${hint}\n`);
        return parsed.values.json || known.includes(service) ? 0 : 1;
      }
      if (parsed.values.json) {
        process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        return 0;
      }
      for (const r of rows) {
        const sev = Object.entries(r.severityCounts)
          .map(([k, n]) => `${k}=${n}`)
          .join(" ");
        process.stdout.write(`${String(r.count).padStart(8)}  ${r.template}\n`);
        process.stdout.write(
          `          ${sev}; ${r.windows} hour(s); fingerprint ${r.fingerprint.slice(0, 12)}\n`,
        );
        for (const s of r.samples) process.stdout.write(`          e.g. ${s}\n`);
      }
      return 0;
    } catch (err) {
      if (!(err instanceof RemoteError)) throw err;
      process.stderr.write(`slo-scout capsules: ${err.message}\n`);
      return 1;
    } finally {
      await store.close();
    }
  },
};

/** Where the capsules come from: the database, or a running server's API that holds it. */
interface CapsuleStore {
  capsules(service: string, since: number): Promise<Capsule[]>;
  services(): Promise<string[]>;
  close(): Promise<void>;
}

async function localStore(config: Config): Promise<CapsuleStore> {
  const sql = await openSql(config);
  await migrate(sql);
  return {
    capsules: (service, since) => listCapsules(sql, { service, since, limit: 100_000 }),
    services: async () => (await listServices(sql)).map((s) => s.name),
    close: () => sql.close(),
  };
}

type Page<T> = { items: T[]; nextCursor?: string };

function remoteStore(remote: Remote): CapsuleStore {
  async function all<T>(path: string, max: number): Promise<T[]> {
    const out: T[] = [];
    let cursor: string | undefined;
    do {
      const sep = path.includes("?") ? "&" : "?";
      const page = await callApi<Page<T>>(
        remote,
        "GET",
        `${path}${sep}limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
      );
      out.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor && out.length < max);
    return out;
  }
  return {
    capsules: (service, since) =>
      all<Capsule>(`/capsules?service=${encodeURIComponent(service)}&since=${Math.floor(since)}`, 100_000),
    services: async () => (await all<{ name: string }>("/services", 10_000)).map((s) => s.name),
    close: async () => {},
  };
}
