import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { parse as parseYaml } from "yaml";
import { loadConfig } from "../config.js";
import { parseDuration } from "../core/duration.js";
import { type DryRunReport, dryRun } from "../generators/validate/dry-run.js";
import { type BlastRadiusReport, blastRadius } from "../governance/blast-radius.js";
import { checkArtifacts, type Violation } from "../governance/guard.js";
import { pagesPer28d } from "../governance/pages.js";
import { loadPolicy } from "../governance/policy.js";
import { parseAlertmanagerConfig } from "../governance/routes.js";
import { StoreSource } from "../history/store-source.js";
import { migrate } from "../store/migrate.js";
import { openSql } from "../store/open.js";
import { listJourneys } from "../store/repos/services.js";
import { type Command, parseFlags, UsageError } from "./command.js";

const USAGE = [
  "Usage: slo-scout blast-radius <dir> [--against REPO_DIR] [--alertmanager FILE] [--history 28d] [--json]",
  "",
  "Reports what committing the generated artifacts in <dir> (paths as they would land in the repository)",
  "would change: files added or modified, alerts added/changed/removed against the repository's rule files,",
  "services and journeys covered with their downstream dependents, which on-call receivers the alerts would",
  "reach, and — with --history — expected pages per month from a dry-run over stored history (or",
  "PROMETHEUS_URL). The repository's policy (.slo-scout/policy.yml, built-in defaults otherwise) is",
  "checked; the exit code is 1 when it refuses the change set.",
  "",
  "Options:",
  "  --against DIR      the repository the artifacts would land in (default: current directory)",
  "  --alertmanager F   Alertmanager config for routing (default: DIR/alertmanager.yml when present)",
  "  --history DUR      dry-run the alerts over this much history (e.g. 28d); needs stored samples",
  "  --json             print the report as JSON",
].join("\n");

/** Every file under `dir` (hidden folders like .git skipped), with its path relative to `dir`. */
export function readTree(dir: string): { path: string; content: string }[] {
  const out: { path: string; content: string }[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const full = join(d, name);
      const st = statSync(full);
      if (st.isDirectory()) {
        if (!name.startsWith(".") && name !== "node_modules") walk(full);
      } else if (st.isFile() && st.size < 5_000_000) {
        out.push({ path: relative(dir, full).split(sep).join("/"), content: readFileSync(full, "utf8") });
      }
    }
  };
  walk(dir);
  return out;
}

export function formatReport(r: BlastRadiusReport, violations: Violation[], policySource: string): string {
  const lines: string[] = [];
  const list = (xs: string[]) => (xs.length ? xs.join(", ") : "none");
  lines.push("Files:");
  for (const f of r.files) lines.push(`  ${f.status.padEnd(9)} ${f.path}`);
  lines.push(`Services covered: ${list(r.services)}`);
  lines.push(`Journeys covered: ${list(r.journeys)}`);
  lines.push(`Downstream dependents: ${list(r.dependents)}`);
  const a = r.alerts;
  lines.push(
    `Alerts: ${a.added.length} added, ${a.changed.length} changed, ${a.removed.length} removed, ${a.unchanged} unchanged`,
  );
  for (const [what, xs] of [
    ["+", a.added],
    ["~", a.changed],
    ["-", a.removed],
  ] as const) {
    for (const x of xs)
      lines.push(`  ${what} ${x.alert}${x.severity ? ` (${x.severity})` : ""} in ${x.path}`);
  }
  if (r.pagesPerMonth !== undefined) {
    lines.push(`Expected pages per month (dry-run): ${r.pagesPerMonth.toFixed(1)}`);
    for (const [s, n] of Object.entries(r.pagesPerMonthByService ?? {}))
      lines.push(`  ${s}: ${n.toFixed(1)}`);
  }
  lines.push("On-call routes:");
  for (const route of r.routes) {
    lines.push(
      `  ${route.receiver} <- ${route.via || "(no routing labels)"}: ${[...new Set(route.alerts)].join(", ")}`,
    );
  }
  lines.push(
    `Policy (${policySource}): ${violations.length === 0 ? "ok" : `${violations.length} violation(s)`}`,
  );
  for (const v of violations) lines.push(`  [${v.rule}] ${v.message}`);
  return lines.join("\n");
}

export const command: Command = {
  usage: USAGE,
  async run(args) {
    const parsed = parseFlags({
      args,
      options: {
        against: { type: "string", default: "." },
        alertmanager: { type: "string" },
        history: { type: "string" },
        json: { type: "boolean" },
      },
      allowPositionals: true,
    });
    const [dir, ...extra] = parsed.positionals;
    if (!dir || extra.length > 0) throw new UsageError("name exactly one directory of generated artifacts");
    const repo = parsed.values.against!;
    for (const d of [dir, repo]) {
      if (!existsSync(d) || !statSync(d).isDirectory()) throw new UsageError(`${d} is not a directory`);
    }
    const changes = readTree(dir);
    const existing = readTree(repo);
    const { policy, source } = loadPolicy(repo);
    const amFile = parsed.values.alertmanager ?? join(repo, "alertmanager.yml");
    const router = existsSync(amFile) ? parseAlertmanagerConfig(readFileSync(amFile, "utf8")) : undefined;

    const config = loadConfig();
    let pages: Record<string, number> | undefined;
    const sql = await openSql(config);
    try {
      await migrate(sql);
      const journeys = await listJourneys(sql);
      if (parsed.values.history) {
        const span = parseDuration(parsed.values.history);
        if (span === undefined) {
          throw new UsageError(
            `--history ${JSON.stringify(parsed.values.history)} is not a duration (e.g. 28d)`,
          );
        }
        const endMs = Date.now();
        const reports: DryRunReport[] = [];
        for (const f of changes.filter((c) => /\.ya?ml$/.test(c.path) && /^\s*groups:/m.test(c.content))) {
          reports.push(
            await dryRun(parseYaml(f.content), {
              startMs: endMs - span,
              endMs,
              ...(config.PROMETHEUS_URL
                ? { prometheusUrl: config.PROMETHEUS_URL, prometheusRead: config.PROMETHEUS_READ }
                : { source: new StoreSource(sql) }),
            }),
          );
        }
        pages = pagesPer28d(reports);
      }
      const report = blastRadius({
        changes,
        existing,
        journeys,
        router,
        ...(pages ? { pagesPer28d: pages } : {}),
      });
      const violations = checkArtifacts(policy, changes, pages ? { pagesPer28d: pages } : {});
      process.stdout.write(
        parsed.values.json
          ? `${JSON.stringify({ ...report, policy: { source, violations } }, null, 2)}\n`
          : `${formatReport(report, violations, source)}\n`,
      );
      return violations.length === 0 ? 0 : 1;
    } finally {
      await sql.close();
    }
  },
};
