import { openApp } from "../app/context.js";
import { exportDerived } from "../app/export-derived.js";
import { loadConfig } from "../config.js";
import { parseDuration } from "../core/duration.js";
import { parseTime } from "./analyze.js";
import { type Command, parseFlags, UsageError } from "./command.js";
import { cliLogger } from "./logger.js";

const usage = `Usage: slo-scout export-derived [--to URL] [--since TIME|DURATION] [--step 1m]

Writes the series behind log and RUM SLIs — slo_scout_log_events_total{service, fingerprint, severity} and
slo_scout_web_vital_bucket/_count/_sum{service, page, vital} — with their stored history to a Prometheus
over remote_write (start Prometheus with --web.enable-remote-write-receiver), so the log and RUM rules
SLO-Scout generates run there on the numbers analysis measured. Samples go oldest first; run it once for
the history, then with --since to continue (the counters keep their values).

Options:
  --to URL         remote_write endpoint (default REMOTE_WRITE_URL), e.g. http://prometheus:9090/api/v1/write
  --since WHEN     write samples from this time on: ISO 8601, epoch ms, or a duration back from the newest
                   data (e.g. 2h); default all stored history
  --step DURATION  sample interval (default 1m)`;

export const command: Command = {
  usage,
  async run(args) {
    const { values } = parseFlags({
      args,
      allowPositionals: false,
      options: { to: { type: "string" }, since: { type: "string" }, step: { type: "string", default: "1m" } },
    });
    const stepMs = parseDuration(values.step);
    if (stepMs === undefined || stepMs < 1000)
      throw new UsageError(
        `--step must be a duration of at least 1s (e.g. 1m), got ${JSON.stringify(values.step)}`,
      );
    const app = await openApp(loadConfig(), { logger: cliLogger() });
    try {
      const back = values.since !== undefined ? parseDuration(values.since) : undefined;
      const outcome = await exportDerived(app, {
        ...(values.to !== undefined ? { url: values.to } : {}),
        ...(back !== undefined ? { sinceBeforeEndMs: back } : {}),
        ...(values.since !== undefined && back === undefined
          ? { since: parseTime(values.since, "--since") }
          : {}),
        stepMs,
      });
      if (!outcome.ok) {
        process.stderr.write(`slo-scout export-derived: ${outcome.refusal.reason}\n`);
        return 1;
      }
      const r = outcome.value;
      const iso = (t: number) => new Date(t).toISOString();
      process.stdout.write(
        `wrote ${r.samples.toLocaleString("en-US")} samples of ${r.series} series (${iso(r.start)} to ${iso(r.end)}, every ${values.step}) to ${r.url} in ${r.requests} requests\n`,
      );
      return 0;
    } finally {
      await app.close();
    }
  },
};
