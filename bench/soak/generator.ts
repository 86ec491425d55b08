/**
 * A soak load generator: a child process of bench/soak.ts (so it never shares the server's event loop),
 * started with its GeneratorArgs as JSON in argv. It reports a Tick a second over IPC, stops offering
 * when the parent sends "stop", lets its client finish (SDK flush, retries) and reports Done.
 */
import { otlpLogs, otlpSpans } from "./otel.js";
import { faro, fluentbit, remoteWrite } from "./senders.js";
import { type Done, type GeneratorArgs, type GeneratorMessage, Tally } from "./tally.js";

const args = JSON.parse(process.argv[2] ?? "{}") as GeneratorArgs;
const tally = new Tally(args.receiver);
let stopping = false;
process.on("message", (m) => {
  if (m === "stop") stopping = true;
});
// The parent may be gone (Ctrl-C): nothing else would end this process.
process.on("disconnect", () => process.exit(0));

const send = (m: GeneratorMessage) => process.send?.(m);
const timer = setInterval(() => send(tally.take()), 1000);

const run: Record<GeneratorArgs["receiver"], typeof otlpLogs> = {
  "otlp-logs": otlpLogs,
  "otlp-spans": otlpSpans,
  fluentbit,
  "remote-write": remoteWrite,
  faro,
};
const done: Done = await run[args.receiver](args, tally, () => stopping);
clearInterval(timer);
send(tally.take());
send(done);
process.disconnect();
