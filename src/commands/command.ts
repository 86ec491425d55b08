import { type ParseArgsConfig, parseArgs } from "node:util";

/** What every `slo-scout <name>` command exports: src/commands/<name>.ts, dispatched by src/cli.ts. */
export interface Command {
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
