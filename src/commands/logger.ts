import pino, { type Logger } from "pino";

/** Commands print their results on stdout; the backends' own log lines go to stderr, warnings only. */
export function cliLogger(): Logger {
  return pino({ level: process.env.LOG_LEVEL ?? "warn" }, pino.destination(2));
}
