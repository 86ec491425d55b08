import { command as chat } from "./chat.js";
import { type Command, parseFlags, UsageError } from "./command.js";

/** The `proposals` command of the chat language as a command of its own, the same reply either way. */
export const command: Command = {
  usage: [
    "Usage: slo-scout proposals [<service>]",
    "",
    "Lists the proposals (open ones first) with their targets, error budgets and confidence, for one",
    'service or all: the reply of slo-scout chat "proposals [<service>]". Through the running server\'s',
    "REST API when SLO_SCOUT_URL is set or a server holds the embedded database, like analyze and chat.",
    "",
    "Exit code 0 when listed, 1 when refused (e.g. a service name that is not valid).",
  ].join("\n"),
  async run(args) {
    const { positionals } = parseFlags({ args, options: {}, allowPositionals: true });
    if (positionals.length > 1)
      throw new UsageError(`give at most one service, got ${positionals.length}: ${positionals.join(" ")}`);
    return chat.run(["proposals", ...positionals]);
  },
};
