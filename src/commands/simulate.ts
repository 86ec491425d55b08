import { parseWindowDays } from "../analysis/history.js";
import type { Simulation } from "../analysis/simulate.js";
import { sliKindLabel } from "../analysis/sli.js";
import { openApp } from "../app/context.js";
import { simulateSli } from "../app/simulate.js";
import { loadConfig } from "../config.js";
import { parseDuration } from "../core/duration.js";
import type { Sli } from "../core/slo.js";
import { parseTime } from "./analyze.js";
import { type Command, parseFlags, UsageError } from "./command.js";
import { cliLogger } from "./logger.js";
import { progressBar } from "./progress.js";
import { callApi, type Remote, RemoteError, remoteServer } from "./remote.js";

const usage = `Usage: slo-scout simulate <service> --sli <id> --target <percent> [--window 28d] [--json]

Replays the SLI's history against a target, as if the SLO had existed: budget remaining over time,
breach periods, and the pages and tickets the multi-window burn-rate alerts would have sent. SLI ids
are the ones slo-scout analyze prints.

  --sli <id>        SLI id from slo-scout analyze (e.g. sli-3f2a9c0d1b2e)
  --target 99.9     target in percent, between 0 and 100 (exclusive)
  --window 28d      SLO window; default 28d
  --json            print the simulation as JSON
  --end <time>      end of the replayed history (ISO 8601 or epoch ms); default: the newest data
  --step 5m         history resolution; default 5m
  --every 1h        spacing of the budget curve; default 1h`;

function parse(args: string[]) {
  const { values, positionals } = parseFlags({
    args,
    allowPositionals: true,
    options: {
      sli: { type: "string" },
      target: { type: "string" },
      window: { type: "string", default: "28d" },
      json: { type: "boolean", default: false },
      end: { type: "string" },
      step: { type: "string", default: "5m" },
      every: { type: "string", default: "1h" },
    },
  });
  if (positionals.length !== 1) throw new UsageError("give exactly one service name");
  if (!values.sli) throw new UsageError("--sli <id> is required (the ids are printed by slo-scout analyze)");
  if (values.target === undefined) throw new UsageError("--target <percent> is required, e.g. --target 99.9");
  const target = Number(values.target);
  if (!(target > 0 && target < 100)) {
    throw new UsageError(`--target must be a percentage between 0 and 100 (exclusive), got ${values.target}`);
  }
  let windowDays: number;
  try {
    windowDays = parseWindowDays(values.window);
  } catch (err) {
    throw new UsageError(`--window: ${(err as Error).message}`);
  }
  const ms = (flag: string, v: string) => {
    const parsed = parseDuration(v);
    if (parsed === undefined)
      throw new UsageError(`${flag} must be a duration like 5m or 1h, got ${JSON.stringify(v)}`);
    return parsed;
  };
  const stepMs = ms("--step", values.step);
  if (86_400_000 % stepMs !== 0)
    throw new UsageError(`--step must divide a day (e.g. 1m, 5m, 1h), got ${values.step}`);
  const everyMs = ms("--every", values.every);
  if (everyMs % stepMs !== 0) throw new UsageError(`--every must be a multiple of --step (${values.step})`);
  return {
    service: positionals[0]!,
    sli: values.sli,
    target,
    window: values.window,
    windowDays,
    json: values.json,
    ...(values.end !== undefined ? { end: parseTime(values.end, "--end") } : {}),
    stepMs,
    everyMs,
  };
}

const iso = (t: number) => new Date(t).toISOString().replace(/:00\.000Z$/, "Z");
const pct = (x: number) => `${Number((x * 100).toFixed(1))}%`;

export function renderSimulation(service: string, sli: Sli, s: Simulation): string {
  // A journey key starts with its entry service; one passing through `service` is named after it.
  const journey = sli.journey.startsWith(`${service} `) ? sli.journey : `${service}: ${sli.journey}`;
  const out = [
    `${journey} ${sliKindLabel(sli)} (${sli.id}) at ${s.target}% over ${s.windowDays}d`,
    `  error budget ${Number((s.errorBudget * 100).toFixed(4))}% of events`,
    `  attainment ${Number(s.summary.attainment.toFixed(4))}%, budget remaining at the end ${pct(s.summary.finalBudgetRemaining)}, lowest ${pct(s.summary.minBudgetRemaining)}`,
    `  pages ${s.summary.pages}, tickets ${s.summary.tickets}, time in breach ${Math.round(s.summary.breachMs / 3_600_000)} h`,
  ];
  if (s.breaches.length) {
    out.push("  breaches:");
    for (const b of s.breaches)
      out.push(`    ${iso(b.start)} .. ${iso(b.end)} (lowest budget ${pct(b.minBudgetRemaining)})`);
  }
  if (s.alerts.length) {
    out.push("  alerts:");
    for (const a of s.alerts.slice(0, 20)) {
      out.push(
        `    ${a.severity} ${iso(a.start)} .. ${iso(a.end)} (peak burn rate ${a.peakBurnRate.toFixed(1)}, windows ${a.windows.join(", ")})`,
      );
    }
    if (s.alerts.length > 20) out.push(`    … ${s.alerts.length - 20} more`);
  }
  for (const w of s.warnings) out.push(`  warning: ${w}`);
  return `${out.join("\n")}\n`;
}

export const command: Command = {
  usage,
  async run(args) {
    const flags = parse(args);
    const config = loadConfig();
    const remote = remoteServer(config);
    if (remote) return simulateRemotely(remote, flags);
    const app = await openApp(config, { logger: cliLogger() });
    const bar = progressBar(Boolean(process.stderr.isTTY));
    try {
      const outcome = await simulateSli(app, {
        service: flags.service,
        sliId: flags.sli,
        target: flags.target,
        window: flags.window,
        stepMs: flags.stepMs,
        everyMs: flags.everyMs,
        ...(flags.end !== undefined ? { end: flags.end } : {}),
        onProgress: bar.onProgress,
      });
      bar.stop();
      if (!outcome.ok) {
        if (outcome.refusal.code === "bad-request") throw new UsageError(outcome.refusal.reason);
        process.stderr.write(`slo-scout simulate: ${outcome.refusal.reason}\n`);
        return 1;
      }
      const { sli, simulation } = outcome.value;
      process.stdout.write(
        flags.json
          ? `${JSON.stringify({ service: flags.service, sli, window: flags.window, simulation }, null, 2)}\n`
          : renderSimulation(flags.service, sli, simulation),
      );
      return 0;
    } finally {
      bar.stop();
      await app.close();
    }
  },
};

/** The same replay through a running server's API. */
async function simulateRemotely(remote: Remote, flags: ReturnType<typeof parse>): Promise<number> {
  try {
    const { sli, simulation } = await callApi<{ sli: Sli; simulation: Simulation }>(
      remote,
      "POST",
      "/simulations",
      {
        service: flags.service,
        sli: flags.sli,
        target: flags.target,
        window: flags.window,
        step: `${flags.stepMs / 1000}s`,
        every: `${flags.everyMs / 1000}s`,
        ...(flags.end !== undefined ? { end: flags.end } : {}),
      },
    );
    process.stdout.write(
      flags.json
        ? `${JSON.stringify({ service: flags.service, sli, window: flags.window, simulation }, null, 2)}\n`
        : renderSimulation(flags.service, sli, simulation),
    );
    return 0;
  } catch (err) {
    if (!(err instanceof RemoteError)) throw err;
    if (err.status === 400) throw new UsageError(err.message);
    process.stderr.write(`slo-scout simulate: ${err.message}\n`);
    return 1;
  }
}
