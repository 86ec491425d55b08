import { userInfo } from "node:os";
import { openApp } from "../app/context.js";
import { converse } from "../app/conversation.js";
import { renderMarkdown } from "../app/render-markdown.js";
import { cliCommands } from "../app/view-model.js";
import { loadConfig } from "../config.js";
import { type Command, UsageError } from "./command.js";
import { cliLogger } from "./logger.js";
import { callApi, RemoteError, remoteServer } from "./remote.js";

const usage = `Usage: slo-scout chat "<command>"

Runs one command of the language the GitHub, GitLab and Slack bots understand, against the configured
store and the local git repository (SLO_SCOUT_REPO), and prints the reply they would post (Markdown).

Commands:
  analyze <service> [--window 28d] [--journey <key>]
  proposals [<service>]
  approve <proposal-id|all> [--target 99.9]
  reject <proposal-id> [reason]
  simulate <proposal-id> --target <percent>
  status
  help [<command>]

Exit code 0 when the command did what it said, 1 when it was refused or failed.`;

export const command: Command = {
  usage,
  async run(args) {
    if (args.length === 0)
      throw new UsageError('give the command to run, e.g. slo-scout chat "analyze checkout"');
    const config = loadConfig();
    const remote = remoteServer(config);
    if (remote) {
      try {
        const reply = await callApi<{ ok: boolean; markdown: string }>(remote, "POST", "/conversations", {
          text: args.join(" "),
        });
        process.stdout.write(`${reply.markdown}\n`);
        return reply.ok ? 0 : 1;
      } catch (err) {
        if (!(err instanceof RemoteError)) throw err;
        process.stderr.write(`slo-scout chat: ${err.message}\n`);
        return 1;
      }
    }
    const app = await openApp(config, { logger: cliLogger() });
    try {
      const reply = await converse(
        app,
        args.join(" "),
        { source: "cli", login: userInfo().username },
        {
          commands: cliCommands(),
          onProgress: (m) => {
            if (process.stderr.isTTY) process.stderr.write(`${m}\n`);
          },
        },
      );
      process.stdout.write(reply.views.map(renderMarkdown).join("\n\n---\n\n"));
      process.stdout.write("\n");
      return reply.ok ? 0 : 1;
    } finally {
      await app.close();
    }
  },
};
