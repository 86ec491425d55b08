import { readFileSync } from "node:fs";
import { type Command, UsageError } from "./commands/command.js";
import { ConfigError } from "./config.js";

/**
 * The `slo-scout` command. Each subcommand lives in `src/commands/<name>.ts` and exports a `command`
 * (usage, run); this file only dispatches, so adding a command is one line in COMMANDS. The summaries
 * live here so `--help` does not have to load every command (and its dependencies) to print them.
 */
const COMMANDS: Record<string, { summary: string; load: () => Promise<{ command: Command }> }> = {
  serve: {
    summary: "run the server: telemetry receivers, /health and /metrics",
    load: () => import("./commands/serve.js"),
  },
  migrate: {
    summary: "apply the database migrations (safe to run again)",
    load: () => import("./commands/migrate.js"),
  },
  generate: {
    summary: "generate Prometheus SLO rules, burn-rate alerts and their tests from Sloth or OpenSLO specs",
    load: () => import("./commands/generate.js"),
  },
  validate: {
    summary: "validate generated artifacts (specs, rule files, rule tests) with file:line messages",
    load: () => import("./commands/validate.js"),
  },
  fingerprint: {
    summary: "fingerprint log lines: template and fingerprint per line (CSV or JSONL)",
    load: () => import("./commands/fingerprint.js"),
  },
  capsules: {
    summary: "list a service's log fingerprints with counts and redacted samples",
    load: () => import("./commands/capsules.js"),
  },
  "blast-radius": {
    summary: "what committing generated artifacts would change, and whether the policy allows it",
    load: () => import("./commands/blast-radius.js"),
  },
  ingest: {
    summary: "load telemetry from a file, stdin or the demo shop through the receivers' decoders",
    load: () => import("./commands/ingest.js"),
  },
  analyze: {
    summary: "find a service's journeys and propose SLIs, targets, confidence and evidence",
    load: () => import("./commands/analyze.js"),
  },
  "export-derived": {
    summary: "write the derived log and RUM series with their history to a Prometheus over remote_write",
    load: () => import("./commands/export-derived.js"),
  },
  proposals: {
    summary: "list proposals with targets, error budgets and confidence (all services, or one)",
    load: () => import("./commands/proposals.js"),
  },
  chat: {
    summary: 'run one bot command locally and print the reply, e.g. chat "analyze checkout"',
    load: () => import("./commands/chat.js"),
  },
  simulate: {
    summary: "replay an SLI's history against a target: budget over time, breaches, pages and tickets",
    load: () => import("./commands/simulate.js"),
  },
};

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return pkg.version;
}

function help(): string {
  const lines = ["Usage: slo-scout <command> [options]", "", "Commands:"];
  for (const [name, { summary }] of Object.entries(COMMANDS)) {
    lines.push(`  ${name.padEnd(16)}${summary}`);
  }
  lines.push(
    "",
    "Options:",
    "  -h, --help    show help (also: slo-scout <command> --help)",
    "  -v, --version show the version",
    "",
    "Configuration comes from environment variables and an optional slo-scout.yml; see README.md.",
  );
  return lines.join("\n");
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "-h" || name === "--help" || name === "help") {
    const text = help();
    if (name === undefined) {
      process.stderr.write(`${text}\n`);
      return 2;
    }
    process.stdout.write(`${text}\n`);
    return 0;
  }
  if (name === "-v" || name === "--version") {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    process.stderr.write(`slo-scout: unknown command "${name}"\n\n${help()}\n`);
    return 2;
  }
  const { command } = await entry.load();
  if (rest.includes("-h") || rest.includes("--help")) {
    process.stdout.write(`${command.usage}\n`);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`slo-scout ${name}: ${err.message}\n\n${command.usage}\n`);
      return 2;
    }
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
    process.stderr.write(`slo-scout ${name}: ${(err as Error).message}\n`);
    return 1;
  }
}
