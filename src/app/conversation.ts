import { randomUUID } from "node:crypto";
import { analyze } from "./analyze.js";
import { approve } from "./approve.js";
import { type Command, helpText, parseCommand, VERBS, type Verb } from "./command-language.js";
import type { AppContext } from "./context.js";
import type { Outcome } from "./outcome.js";
import { type Actor, proposals, reject } from "./proposals.js";
import { simulate } from "./simulate.js";
import { status } from "./status.js";
import {
  analysisView,
  changeView,
  helpView,
  proposalsView,
  refusalView,
  simulationView,
  statusView,
  type ViewModel,
  type ViewOptions,
} from "./view-model.js";

/** One reply to one command: what to show (one or more views), and the id that ties it to the log. */
export interface Reply {
  ok: boolean;
  views: ViewModel[];
  correlationId: string;
  command?: Command;
}

/**
 * The conversation every chat and the CLI share: command text in, views out. A chat adapter parses its
 * host's payload into (text, actor), calls this, and renders the views; it holds no business logic. Every
 * command gets an answer: a refusal names its reason, an unexpected failure its correlation id, which
 * the server log carries too.
 */
export async function converse(
  app: AppContext,
  text: string,
  actor: Actor,
  opts: ViewOptions & { onProgress?: (message: string) => void },
): Promise<Reply> {
  const correlationId = randomUUID().slice(0, 8);
  const log = app.logger.child({ correlationId, actor: `${actor.source}:${actor.login}` });
  const parsed = parseCommand(text);
  if (!parsed.ok) {
    const e = parsed.error;
    return {
      ok: false,
      correlationId,
      views: [
        refusalView(
          { code: "bad-request", reason: e.message, details: e.help.split("\n"), correlationId },
          {
            ...opts,
            ...(isVerb(e.suggestion)
              ? {
                  next: { command: { verb: "help", topic: e.suggestion }, why: `how to use ${e.suggestion}` },
                }
              : {}),
          },
        ),
      ],
    };
  }
  const command = parsed.command;
  log.info({ command: command.verb }, "chat command");
  try {
    const views = await run(app, command, actor, opts);
    if (!views.ok) {
      log.info({ refusal: views.refusal.code }, "chat command refused");
      return {
        ok: false,
        correlationId,
        command,
        views: [refusalView({ ...views.refusal, correlationId }, opts)],
      };
    }
    return { ok: true, correlationId, command, views: views.value };
  } catch (err) {
    log.error({ err }, "chat command failed");
    return {
      ok: false,
      correlationId,
      command,
      views: [
        refusalView(
          {
            code: "internal",
            reason: `the command failed unexpectedly; the server log has the details under correlation id ${correlationId}`,
            correlationId,
          },
          opts,
        ),
      ],
    };
  }
}

async function run(
  app: AppContext,
  command: Command,
  actor: Actor,
  opts: ViewOptions & { onProgress?: (message: string) => void },
): Promise<Outcome<ViewModel[]>> {
  const ok = (views: ViewModel[]): Outcome<ViewModel[]> => ({ ok: true, value: views });
  switch (command.verb) {
    case "help":
      return ok([helpView(helpText(command.topic), opts)]);
    case "status":
      return ok([statusView(await status(app), opts)]);
    case "proposals":
      return ok([
        proposalsView(await proposals(app, command.service ? { service: command.service } : {}), {
          ...opts,
          ...(command.service ? { service: command.service } : {}),
        }),
      ]);
    case "analyze": {
      opts.onProgress?.(`analyzing ${command.service} over ${command.window.text}…`);
      const result = await analyze(app, {
        service: command.service,
        window: command.window.text,
        ...(command.journey ? { journey: command.journey } : {}),
      });
      return result.ok ? ok([analysisView(result.value, opts)]) : result;
    }
    case "approve": {
      const result = await approve(app, command.proposals, {
        by: actor,
        ...(command.targetPercent !== undefined ? { target: command.targetPercent } : {}),
      });
      if (!result.ok) return result;
      return ok(
        result.value.map((c) =>
          changeView(
            { change: c.change, blastRadius: c.blastRadius, proposals: c.proposals, notes: c.notes },
            opts,
          ),
        ),
      );
    }
    case "reject": {
      const result = await reject(app, command.proposalId, {
        by: actor,
        ...(command.reason ? { reason: command.reason } : {}),
      });
      if (!result.ok) return result;
      return ok([
        proposalsView(await proposals(app, { service: result.value.service }), {
          ...opts,
          service: result.value.service,
        }),
      ]);
    }
    case "simulate": {
      const result = await simulate(app, command.proposalId, { target: command.targetPercent });
      return result.ok ? ok([simulationView(result.value, opts)]) : result;
    }
  }
}

const isVerb = (word: string | undefined): word is Verb => (VERBS as readonly string[]).includes(word ?? "");
