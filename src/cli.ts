import { readFileSync } from "node:fs";
import { type ParseArgsConfig, parseArgs } from "node:util";
import { ConfigError } from "./config.js";

/**
 * The `slo-scout` command. Each subcommand lives in `src/commands/<name>.ts` and exports a `command`
 * (summary, usage, run); this file only dispatches, so adding a command is one line in COMMANDS.
 */
export interface Command {
  summary: string;
  /** Full usage text shown by `slo-scout <name> --help`. */
  usage: string;
  /** Returns the process exit code. Throw UsageError for bad flags (exit 2 with the usage). */
  run(args: string[]): Promise<number>;
}

export class UsageError extends Error {
  override name = "UsageError";
}

/** `node:util` parseArgs, strict, with a bad flag turned into a UsageError (exit 2 with the usage). */
export function parseFlags<T extends ParseArgsConfig>(
  config: T,
): ReturnType<typeof parseArgs<T & { strict: true }>> {
  try {
    return parseArgs({ ...config, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

const COMMANDS: Record<string, () => Promise<{ command: Command }>> = {
  serve: () => import("./commands/serve.js"),
  migrate: () => import("./commands/migrate.js"),
  generate: () => import("./commands/generate.js"),
  validate: () => import("./commands/validate.js"),
  fingerprint: () => import("./commands/fingerprint.js"),
  capsules: () => import("./commands/capsules.js"),
  "blast-radius": () => import("./commands/blast-radius.js"),
  ingest: () => import("./commands/ingest.js"),
  analyze: () => import("./commands/analyze.js"),
  simulate: () => import("./commands/simulate.js"),
};

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return pkg.version;
}

async function help(): Promise<string> {
  const lines = ["Usage: slo-scout <command> [options]", "", "Commands:"];
  for (const [name, load] of Object.entries(COMMANDS)) {
    const { command } = await load();
    lines.push(`  ${name.padEnd(14)}${command.summary}`);
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
    const text = await help();
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
  const load = COMMANDS[name];
  if (!load) {
    process.stderr.write(`slo-scout: unknown command "${name}"\n\n${await help()}\n`);
    return 2;
  }
  const { command } = await load();
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
