/**
 * Benchmark: from a signed `issue_comment` delivery to the first 👀 reaction GitHub receives, with the
 * command's job still queued or running behind it.
 *
 *   npm run bench:github [-- --deliveries 20 --interval 3500]
 *
 * The real server (buildServer + the GitHub route) listens on loopback; GitHub's REST API is a local
 * stand-in (GHE_HOST=127.0.0.1:<port>, GHE_PROTOCOL=http) that answers the calls an acknowledgement makes
 * and stamps the time each reaction arrives. Each delivery is `/slo-scout analyze checkout` on a new
 * comment, `interval` ms apart; the figure is the time from sending it to its reaction. Probot's Octokit
 * spaces write requests (POST/PATCH) at least a second apart, as GitHub asks to stay clear of its
 * secondary rate limits, so deliveries closer together than their writes queue behind each other's
 * (`--interval 0` shows that).
 */
import { createHmac, generateKeyPairSync, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { cpus, loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import pino from "pino";
import { openApp } from "../src/app/context.js";
import { githubRoutes } from "../src/bot/github/route.js";
import { ConfigSchema } from "../src/config.js";
import { buildServer } from "../src/server/app.js";

const { values } = parseArgs({
  options: { deliveries: { type: "string", default: "20" }, interval: { type: "string", default: "3500" } },
});
const n = Number(values.deliveries);
const interval = Number(values.interval);

const reactedAt = new Map<number, number>();
let nextComment = 1_000_000;
const github = createServer((req, res) => {
  const url = req.url ?? "";
  const reply = (status: number, body: unknown) =>
    res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
  req.resume();
  req.on("end", () => {
    const reaction = /\/issues\/comments\/(\d+)\/reactions$/.exec(url);
    if (req.method === "POST" && reaction) {
      reactedAt.set(Number(reaction[1]), performance.now());
      return reply(201, { id: 1, content: "eyes" });
    }
    if (req.method === "POST" && url.endsWith("/access_tokens"))
      return reply(201, { token: "ghs_bench", expires_at: "2099-01-01T00:00:00Z" });
    if (req.method === "GET" && /\/repos\/[^/]+\/[^/]+$/.test(url))
      return reply(200, { default_branch: "main" });
    if (req.method === "GET" && /\/issues\/\d+\/comments/.test(url)) return reply(200, []);
    if (req.method === "POST" && /\/issues\/\d+\/comments$/.test(url))
      return reply(201, { id: nextComment++ });
    if (req.method === "PATCH") return reply(200, {});
    return reply(404, { message: "Not Found" });
  });
});
await new Promise<void>((resolve) => github.listen(0, "127.0.0.1", resolve));
const ghPort = (github.address() as { port: number }).port;

const secret = "bench-secret";
const config = ConfigSchema.parse({
  DATABASE_URL: "pglite://memory",
  APP_ID: "1",
  PRIVATE_KEY: generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({
    type: "pkcs8",
    format: "pem",
  }),
  WEBHOOK_SECRET: secret,
  GHE_HOST: `127.0.0.1:${ghPort}`,
  GHE_PROTOCOL: "http",
  LOG_LEVEL: "silent",
});
const logger = pino({ level: "silent" });
const app = await openApp(config, { logger });
const server = await buildServer(
  { config, logger, sql: app.sql, queue: await app.queue(), app },
  { plugins: [githubRoutes] },
);
await server.listen({ host: "127.0.0.1", port: 0 });
const base = `http://127.0.0.1:${(server.server.address() as { port: number }).port}`;

const examples = JSON.parse(
  readFileSync(
    new URL("../node_modules/@octokit/webhooks-examples/api.github.com/index.json", import.meta.url),
    "utf8",
  ),
) as { name: string; examples: Record<string, unknown>[] }[];
// biome-ignore lint/suspicious/noExplicitAny: a real payload, edited field by field.
const template: any = examples
  .find((d) => d.name === "issue_comment")!
  .examples.find((p) => p.action === "created" && p.installation);

const latencies: number[] = [];
const responses: number[] = [];
for (let i = 0; i < n + 5; i++) {
  const payload = structuredClone(template);
  payload.comment.id = i + 1;
  payload.comment.body = "/slo-scout analyze checkout";
  payload.sender.type = "User";
  const body = JSON.stringify(payload);
  const started = performance.now();
  const res = await fetch(`${base}/api/github/webhooks`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-github-event": "issue_comment",
      "x-github-delivery": randomUUID(),
      "x-hub-signature-256": `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`,
    },
    body,
  });
  await res.text();
  const answered = performance.now();
  const reacted = reactedAt.get(i + 1);
  if (res.status !== 200 || reacted === undefined)
    throw new Error(`delivery ${i} got ${res.status} and no reaction`);
  // The first five warm up the JIT, the token cache and the database.
  if (i >= 5) {
    latencies.push(reacted - started);
    responses.push(answered - started);
  }
  await new Promise((resolve) => setTimeout(resolve, interval));
}

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;
const ms = (x: number) => `${x.toFixed(1)} ms`;
console.log(
  `machine: ${cpus().length} cores, load ${loadavg()[0]!.toFixed(1)}; ${n} deliveries of /slo-scout analyze checkout, ${interval} ms apart`,
);
console.log(
  `webhook → first reaction: p50 ${ms(pct(latencies, 0.5))}, p95 ${ms(pct(latencies, 0.95))}, max ${ms(Math.max(...latencies))}`,
);
console.log(`webhook → HTTP 200: p50 ${ms(pct(responses, 0.5))}, p95 ${ms(pct(responses, 0.95))}`);
await server.close();
await app.close();
github.close();
