import { userInfo } from "node:os";
import { type Config, usesEmbeddedDatabase } from "../config.js";
import { alignedNow, createDemoShop } from "../demo/index.js";
import { type DemoLoadProgress, demoEventCount, loadDemoShop } from "../demo/load.js";
import { Ingestor } from "../pipeline/receivers/backpressure.js";
import { noMetrics } from "../pipeline/receivers/metrics.js";
import type { AppContext } from "./context.js";
import { converse, type Reply } from "./conversation.js";
import type { Actor } from "./proposals.js";
import { renderMarkdown } from "./render-markdown.js";
import { cliCommands, type ViewModel } from "./view-model.js";

/**
 * The main job on the demo shop, walked on the first `npm start`: demo telemetry through the receivers
 * into the running stream stage, `analyze checkout` and `approve` through the conversation every chat
 * uses, and the branch that holds the validated artifacts. It prints what a user would see and type, so
 * a fresh clone shows the whole product before anyone connects a chat or sends telemetry.
 */

/**
 * Seven days: the least metric history the analysis proposes targets from (a week sees every weekday).
 * Each day more costs about 8 s of a busy 2-core machine and 35 MB on disk.
 */
export const DEMO_JOB_DAYS = 7;
const SERVICE = "checkout";

export interface DemoJobOptions {
  /** Where the job's text goes (the console of `npm start`). */
  write(text: string): void;
  /** Stores what the stream stage still holds (open traces), so the analysis reads every event loaded. */
  drain(): Promise<unknown>;
  /** The server's own address, for the next steps. */
  baseUrl: string;
  /** A terminal gets one progress line rewritten in place; a log gets a line per quarter. */
  interactive?: boolean;
  days?: number;
  seed?: number;
  /** Last hour of the demo (epoch ms); the current hour by default, so the analysis window ends now. */
  end?: number;
}

export interface DemoJobResult {
  /** The branch holding the change, when the approval went through. */
  branch?: string;
  approved: string[];
}

/** Only on the embedded database the configuration did not name: never into a configured one. */
export function demoJobAllowed(config: Config): boolean {
  return config.SLO_SCOUT_DEMO !== "off" && usesEmbeddedDatabase(config);
}

/**
 * When allowed, and only while the database holds no telemetry: the second start, or one after real
 * data arrived, leaves it alone.
 */
export async function demoJobWanted(app: AppContext): Promise<boolean> {
  if (!demoJobAllowed(app.config)) return false;
  const { rows } = await app.sql.query<{ held: boolean }>(
    "SELECT EXISTS (SELECT 1 FROM services) OR EXISTS (SELECT 1 FROM metric_series) AS held",
  );
  return rows[0]?.held === false;
}

export async function runDemoJob(app: AppContext, opts: DemoJobOptions): Promise<DemoJobResult> {
  const started = Date.now();
  const { write } = opts;
  const days = opts.days ?? DEMO_JOB_DAYS;
  const shop = createDemoShop({
    days,
    ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
    end: opts.end ?? alignedNow(),
  });
  write(
    [
      "",
      `First start on an empty embedded database: loading the demo shop — ${days} days of metrics, traces, logs`,
      `and browser RUM, about ${demoEventCount(shop).toLocaleString("en-US")} events — through the receivers.`,
      "(SLO_SCOUT_DEMO=off skips this.)",
      "",
    ].join("\n"),
  );
  const bus = await app.bus();
  const ingestor = new Ingestor(bus, {
    bufferEvents: app.config.INGEST_BUFFER_EVENTS,
    bufferBytes: 4 * app.config.MAX_BODY_BYTES,
    metrics: noMetrics,
    futureToleranceMs: app.config.FUTURE_TOLERANCE,
  });
  const progress = progressLine(write, opts.interactive === true);
  const loaded = await loadDemoShop(shop, { ingestor, bus, consumed: true }, progress);
  await opts.drain();
  write(
    `\nstored ${loaded.accepted.toLocaleString("en-US")} events in ${secondsSince(started)} s` +
      (loaded.rejected > 0 ? ` (${loaded.rejected} rejected: ${loaded.reasons.join("; ")})` : "") +
      "\n",
  );

  const actor: Actor = { source: "cli", login: userInfo().username };
  const say = async (command: string): Promise<Reply> => {
    write(`\n$ slo-scout chat "${command}"\n\n`);
    const reply = await converse(app, command, actor, { commands: cliCommands() });
    write(`${reply.views.map(renderMarkdown).join("\n\n---\n\n")}\n`);
    return reply;
  };

  const analysis = await say(`analyze ${SERVICE}`);
  const ids = recommended(analysis.views);
  if (!analysis.ok || ids.length === 0) {
    write(`\nThe demo stops here: the analysis of ${SERVICE} proposed no availability and latency SLOs.\n`);
    return { approved: [] };
  }
  const approval = await say(`approve ${ids.join(" ")}`);
  const change = approval.views.find((v) => v.kind === "change");
  if (!approval.ok || !change) {
    write("\nThe demo stops here: the approval was refused (the reply above says why).\n");
    return { approved: [] };
  }
  write(nextSteps(app, change.branch, opts.baseUrl, secondsSince(started)));
  return { branch: change.branch, approved: ids };
}

/**
 * The proposals a reviewer would approve first: the top availability and latency proposals of the
 * analysis (it lists the service's own journeys first, best first).
 */
function recommended(views: ViewModel[]): string[] {
  const analysis = views.find((v) => v.kind === "analysis");
  if (!analysis) return [];
  const open = analysis.proposals.items.filter((p) => p.status === "proposed");
  return (["availability", "latency"] as const).flatMap((kind) => {
    const p = open.find((x) => x.kind === kind);
    return p ? [p.id] : [];
  });
}

function nextSteps(app: AppContext, branch: string, baseUrl: string, seconds: string): string {
  const repo = shellWord(app.config.SLO_SCOUT_REPO);
  const grpc = app.config.OTLP_GRPC_PORT > 0 ? ` or OTLP/gRPC on port ${app.config.OTLP_GRPC_PORT}` : "";
  return [
    "",
    `Done in ${seconds} s. The validated SLO spec, rules, rule tests, dashboard and runbooks are one commit on`,
    `branch ${branch} of the local repository ${app.config.SLO_SCOUT_REPO}:`,
    "",
    `  git -C ${repo} show --stat ${shellWord(branch)}`,
    "",
    "Next:",
    `  - look around in the web console: ${baseUrl}/ (services, journeys, proposals, changes)`,
    `  - send your own telemetry: OTLP/HTTP to ${baseUrl}${grpc}, Prometheus remote_write to`,
    `    ${baseUrl}/api/v1/write, Fluent Bit to ${baseUrl}/ingest/fluentbit (README: "Ingesting telemetry"),`,
    `    then: slo-scout chat "analyze <your service>"`,
    "  - connect GitHub, Slack or GitLab, so the same commands run from pull requests and channels",
    `  - to start over without the demo: stop the server, delete ${app.config.DATA_DIR} and ${app.config.SLO_SCOUT_REPO},`,
    "    and start with SLO_SCOUT_DEMO=off",
    "",
    "SLO-Scout keeps serving.",
    "",
  ].join("\n");
}

/** A progress line: rewritten in place on a terminal, a line per quarter in a log. */
function progressLine(write: (text: string) => void, interactive: boolean): (p: DemoLoadProgress) => void {
  let quarter = 0;
  return ({ done, total }) => {
    const percent = Math.min(100, Math.floor((100 * done) / Math.max(total, 1)));
    const text = `loading demo telemetry: ${percent}% (${done.toLocaleString("en-US")} of about ${total.toLocaleString("en-US")} events)`;
    if (interactive) write(`\r${text}`);
    else if (percent >= 25 * (quarter + 1)) {
      quarter = Math.floor(percent / 25);
      write(`${text}\n`);
    }
  };
}

const secondsSince = (t: number) => ((Date.now() - t) / 1000).toFixed(0);

/** A path or branch as one shell word (quoted only when it needs to be). */
const shellWord = (s: string) => (/^[\w./@%+=:-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`);
