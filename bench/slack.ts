/**
 * Slack ack latency under load: rounds of N concurrent `/slo-scout` slash commands, each Slack's
 * documented form body signed with a test secret, posted over real HTTP to `/slack/events` on the server
 * (embedded PGlite, in-process queue, the Web API on a local stand-in). Reports the time to the HTTP answer
 * (Slack waits 3 s for it) and, apart, how long each command took until its answer replaced the "running"
 * message, and the server's event-loop delay meanwhile. Reports figures; it is not a timed test.
 *
 *   npm run bench:slack                  # 10 rounds of 50 concurrent commands
 *   npm run bench:slack -- --rounds 3    # 3 rounds of 50
 *   npm run bench:slack -- 5 100         # 5 rounds of 100 (also --rounds 5 --concurrency 100)
 *   npm run bench:slack -- --intake 50   # take up to 50 acknowledged commands in at once (default 4)
 *   DATABASE_URL=postgres://…/scratch npm run bench:slack   # on Postgres instead of the embedded PGlite
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { Worker } from "node:worker_threads";
import pino from "pino";
import { openApp } from "../src/app/context.js";
import { INTAKE_CONCURRENCY } from "../src/bot/slack/bot.js";
import { slackRoutes } from "../src/bot/slack/plugin.js";
import { ConfigSchema } from "../src/config.js";
import { Proposal } from "../src/core/proposal.js";
import { buildServer } from "../src/server/app.js";
import { saveProposal } from "../src/store/repos/proposals.js";
import { startSlackStandIn } from "../test/helpers/slack-stand-in.js";

const args = parseArgs({
  allowPositionals: true,
  options: { rounds: { type: "string" }, concurrency: { type: "string" }, intake: { type: "string" } },
});
const rounds = Number(args.values.rounds ?? args.positionals[0] ?? 10);
const concurrency = Number(args.values.concurrency ?? args.positionals[1] ?? 50);
// Acknowledged commands taken in at once (the bot's INTAKE_CONCURRENCY unless given), to compare settings.
const intakeConcurrency = args.values.intake === undefined ? undefined : Number(args.values.intake);
if (!(Number.isInteger(rounds) && rounds > 0 && Number.isInteger(concurrency) && concurrency > 0))
  throw new Error(
    "usage: bench/slack.ts [--rounds N] [--concurrency N] [--intake N] (or: [rounds] [concurrency])",
  );
const SECRET = "bench-signing-secret-0123456789";
const root = new URL("../", import.meta.url);

const quantile = (xs: number[], q: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;
const ms = (n: number | undefined) => (n === undefined ? "n/a" : `${n.toFixed(1)} ms`);

const dir = mkdtempSync(join(tmpdir(), "slo-scout-bench-slack-"));
mkdirSync(join(dir, "repo"));
const slack = await startSlackStandIn();
const config = ConfigSchema.parse({
  // Embedded PGlite by default; DATABASE_URL names a scratch Postgres database instead (it gets migrated).
  DATABASE_URL: process.env.DATABASE_URL ?? "pglite://memory",
  SLO_SCOUT_REPO: join(dir, "repo"),
  LOG_LEVEL: "silent",
  SLACK_BOT_TOKEN: "xoxb-bench",
  SLACK_SIGNING_SECRET: SECRET,
  SLACK_API_URL: slack.apiUrl,
});
const logger = pino({ level: "silent" });
const app = await openApp(config, { logger });
const recorded = JSON.parse(
  readFileSync(new URL("test/fixtures/analysis/demo-checkout.json", root), "utf8"),
) as { proposals: unknown[] };
for (const p of recorded.proposals) await saveProposal(app.sql, Proposal.parse(p));
const server = await buildServer(
  { config, logger, sql: app.sql, app },
  {
    plugins: [slackRoutes(intakeConcurrency === undefined ? {} : { intakeConcurrency })],
  },
);
await server.listen({ host: "127.0.0.1", port: 0 });
const url = `http://127.0.0.1:${(server.server.address() as { port: number }).port}/slack/events`;

const template = new URLSearchParams(
  readFileSync(new URL("test/fixtures/slack/slash-command.txt", root), "utf8").trim(),
);
/**
 * The load runs in a worker thread, as Slack would be another machine: signing and sending 50 requests at
 * once must not take the server's event loop. Each round waits for its 50 answers, then the next starts.
 */
const CLIENT = `
const { parentPort, workerData } = require("node:worker_threads");
const { createHmac } = require("node:crypto");
const { url, template, secret, rounds, concurrency, responseBase, warmup } = workerData;
let n = 0;
async function command(text) {
  const form = new URLSearchParams(template);
  form.set("command", "/slo-scout");
  form.set("text", text);
  // One user per command: the "running" message mentions it, which ties the answer to its command.
  form.set("user_id", "UBENCH" + (n + 1));
  form.set("trigger_id", "bench." + ++n + "." + Date.now() + "." + Math.random());
  form.set("response_url", responseBase + n);
  const body = form.toString();
  const ts = String(Math.floor(Date.now() / 1000));
  const signature = "v0=" + createHmac("sha256", secret).update("v0:" + ts + ":" + body).digest("hex");
  const user = form.get("user_id");
  const sentAt = performance.timeOrigin + performance.now();
  const started = performance.now();
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", "x-slack-request-timestamp": ts, "x-slack-signature": signature },
    body,
  });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error("ack " + res.status);
  return { ack: performance.now() - started, user, sentAt };
}
(async () => {
  if (warmup) return parentPort.postMessage([await command("help")]);
  const acks = [];
  for (let r = 0; r < rounds; r++) {
    const batch = Array.from({ length: concurrency }, (_, i) => command(i % 2 === 0 ? "proposals checkout" : "status"));
    acks.push(...(await Promise.all(batch)));
  }
  parentPort.postMessage(acks);
})();
`;

interface Sent {
  ack: number;
  user: string;
  sentAt: number;
}

function load(warmup: boolean): Promise<Sent[]> {
  const worker = new Worker(CLIENT, {
    eval: true,
    workerData: {
      url,
      template: template.toString(),
      secret: SECRET,
      rounds,
      concurrency,
      responseBase: slack.responseUrl(""),
      warmup,
    },
  });
  return new Promise((resolve, reject) => {
    worker.once("message", (acks: Sent[]) => {
      void worker.terminate();
      resolve(acks);
    });
    worker.once("error", reject);
  });
}

// One warm-up command, so the first round does not pay for loading Bolt's and the job's modules.
await load(true);
await slack.waitFor((c) => c.method === "chat.update");

const from = slack.calls.length;
const loop = monitorEventLoopDelay({ resolution: 10 });
loop.enable();
const started = performance.now();
const commands = await load(false);
const acks = commands.map((c) => c.ack);
const sent = rounds * concurrency;
const updates = () => slack.calls.slice(from).filter((c) => c.method === "chat.update");
while (updates().length < sent) await slack.waitFor(() => true, 120_000, slack.calls.length);
const answered = performance.now() - started;
loop.disable();
// The "running" message mentions its command's user and shares its ts with the answer that replaces it.
const sentBy = new Map(commands.map((c) => [c.user, c.sentAt]));
// The stand-in numbers its messages' ts in the order it receives them, from 1_700_000_001.
const asked = new Map(
  slack.calls
    .filter((c) => c.method === "chat.postMessage")
    .map((c, i) => {
      const user = /<@(UBENCH\d+)>/.exec(JSON.stringify(c.args.blocks))?.[1];
      return [
        `${1_700_000_001 + i}.000100` as string,
        user === undefined ? undefined : sentBy.get(user),
      ] as const;
    }),
);
const jobs = updates().flatMap((c) => {
  const at = asked.get(String(c.args.ts));
  return at === undefined ? [] : [c.at - at];
});
const loopMs = (q: number) => loop.percentile(q) / 1e6;

process.stdout.write(
  [
    `${sent} slash commands, ${rounds} rounds of ${concurrency} concurrent, intake ${intakeConcurrency ?? INTAKE_CONCURRENCY}, database ${app.sql.engine} (node ${process.version}, ${process.platform})`,
    `ack (HTTP answer)       p50 ${ms(quantile(acks, 0.5))}  p95 ${ms(quantile(acks, 0.95))}  p99 ${ms(quantile(acks, 0.99))}  max ${ms(Math.max(...acks))}`,
    `command -> answer       p50 ${ms(quantile(jobs, 0.5))}  p99 ${ms(quantile(jobs, 0.99))} (${jobs.length} matched)`,
    `event-loop delay        p50 ${ms(loopMs(50))}  p99 ${ms(loopMs(99))}  max ${ms(loop.max / 1e6)}`,
    `all ${sent} answers posted ${(answered / 1000).toFixed(1)} s after the first command`,
    "",
  ].join("\n"),
);

await server.close();
await app.close();
await slack.close();
rmSync(dir, { recursive: true, force: true });
