import { parseDuration } from "../core/duration.js";
import { quoteWord, shellWords } from "./shell-words.js";

/**
 * The one command language of every chat (GitHub PR comments, GitLab notes, Slack) and `slo-scout chat`:
 * text in, a typed command or a typed error out, no I/O. Everything a command names is checked against a
 * strict pattern here, at the edge, because service names and proposal ids end up in branch names and file
 * paths (`slos/<service>.yml`); nothing that passes can contain `/`, `..`, a NUL or a shell metacharacter.
 */

export const VERBS = ["analyze", "proposals", "approve", "reject", "simulate", "status", "help"] as const;
export type Verb = (typeof VERBS)[number];

export const MAX_COMMAND_LENGTH = 1000;
export const MAX_WORD_LENGTH = 200;
export const DEFAULT_WINDOW = "28d";

/** An SLO window as typed (lowercased, e.g. `28d`; proposals record this text) and in milliseconds. */
export interface SloWindow {
  text: string;
  ms: number;
}

/** Targets are percentages in (0, 100), like the proposals' targets: `0.999` and `99.9%` both read 99.9. */
export type Command =
  | { verb: "analyze"; service: string; window: SloWindow; journey?: string }
  | { verb: "proposals"; service?: string }
  | { verb: "approve"; proposals: "all" | string[]; targetPercent?: number }
  | { verb: "reject"; proposalId: string; reason?: string }
  | { verb: "simulate"; proposalId: string; targetPercent: number }
  | { verb: "status" }
  | { verb: "help"; topic?: Verb };

export type CommandErrorCode =
  | "empty"
  | "too-long"
  | "bad-character"
  | "bad-quoting"
  | "unknown-verb"
  | "unknown-flag"
  | "missing-argument"
  | "extra-argument"
  | "bad-argument";

export interface CommandError {
  code: CommandErrorCode;
  /** One sentence for the person who typed the command. */
  message: string;
  /** The verb or flag a typo most likely meant (also named in `message`). */
  suggestion?: string;
  /** The usage of the verb involved, or of every verb when there is none. */
  help: string;
}

export type ParsedCommand = { ok: true; command: Command } | { ok: false; error: CommandError };

interface VerbSpec {
  usage: string;
  summary: string;
  flags: readonly string[];
  details: readonly string[];
}

const SPECS: Record<Verb, VerbSpec> = {
  analyze: {
    usage: "analyze <service> [--window 28d] [--journey <key>]",
    summary: "find the service's journeys and propose SLOs with evidence",
    flags: ["--window", "--journey"],
    details: [
      "--window 28d      SLO window: a duration such as 28d, 30d, 4w or 12h; default 28d",
      "--journey <key>   only this journey, quoted, e.g. --journey 'api-gateway POST /api/checkout'",
      "Example: analyze checkout --window 30d",
    ],
  },
  proposals: {
    usage: "proposals [<service>]",
    summary: "list proposals with their ids, targets and confidence",
    flags: [],
    details: ["Example: proposals checkout"],
  },
  approve: {
    usage: "approve <proposal-id>...|all [--target 99.9]",
    summary: "commit the SLO spec, rules, alerts, dashboard and runbook as a change",
    flags: ["--target"],
    details: [
      "--target 99.9     use this target instead of the recommended one (percent; 0.999 and 99.9% also work)",
      "Example: approve prop-3f2a9c0d1b2e --target 99.5",
      "Who may approve is the repository policy's (approvers); when it asks for a second approver (requireSecondApprover), the change opens once someone else approves the same proposals at the same target.",
    ],
  },
  reject: {
    usage: "reject <proposal-id> [reason...]",
    summary: "reject a proposal; the reason is kept with the decision",
    flags: [],
    details: ["Example: reject prop-3f2a9c0d1b2e too noisy for a page"],
  },
  simulate: {
    usage: "simulate <proposal-id> --target <t>",
    summary: "replay the history against a target: budget, breaches, pages and tickets",
    flags: ["--target"],
    details: [
      "--target <t>      target in percent, e.g. 99.9 (0.999 and 99.9% also work)",
      "Example: simulate prop-3f2a9c0d1b2e --target 99.95",
    ],
  },
  status: {
    usage: "status",
    summary: "what is running and which proposals wait for a decision",
    flags: [],
    details: [],
  },
  help: {
    usage: "help [verb]",
    summary: "these commands, or the details of one",
    flags: [],
    details: ["Example: help approve"],
  },
};

/** The usage of every verb, or the usage, flags and an example of one. */
export function helpText(verb?: Verb): string {
  if (verb) {
    const spec = SPECS[verb];
    return [`Usage: ${spec.usage}`, "", `${capitalize(spec.summary)}.`, ...spec.details].join("\n");
  }
  const width = Math.max(...VERBS.map((v) => SPECS[v].usage.length));
  return [
    "SLO-Scout commands (in a comment, start with /slo-scout):",
    ...VERBS.map((v) => `  ${SPECS[v].usage.padEnd(width)}   ${SPECS[v].summary}`),
  ].join("\n");
}

/** Parses one command, with or without a leading `/slo-scout` or `@slo-scout`. */
export function parseCommand(input: string): ParsedCommand {
  if (input.length > MAX_COMMAND_LENGTH) {
    return fail(
      "too-long",
      `A command is at most ${MAX_COMMAND_LENGTH} characters; this one has ${input.length}.`,
    );
  }
  if (CONTROL_CHARACTER.test(input)) {
    return fail("bad-character", "The command contains a control character; type it as plain text.");
  }
  const split = shellWords(input.trim().replace(PREFIX, ""));
  if (!split.ok) return fail("bad-quoting", `${capitalize(split.message)}.`);
  const [first, ...rest] = split.words;
  if (first === undefined) return fail("empty", "No command given.");
  const long = split.words.find((w) => w.length > MAX_WORD_LENGTH);
  if (long !== undefined) {
    return fail("too-long", `A word is at most ${MAX_WORD_LENGTH} characters; ${show(long)} is longer.`);
  }
  const word = first.toLowerCase();
  if (HELP_FLAGS.has(word)) return parseHelp(rest);
  const verb = asVerb(word);
  if (!verb) return unknownVerb(first);
  return PARSERS[verb](rest);
}

/** The command as text that `parseCommand` reads back to the same command: the next command to copy. */
export function formatCommand(command: Command): string {
  const words: string[] = [command.verb];
  switch (command.verb) {
    case "analyze":
      words.push(command.service);
      if (command.window.text !== DEFAULT_WINDOW) words.push("--window", command.window.text);
      if (command.journey !== undefined) words.push("--journey", command.journey);
      break;
    case "proposals":
      if (command.service !== undefined) words.push(command.service);
      break;
    case "approve":
      words.push(...(command.proposals === "all" ? ["all"] : command.proposals));
      if (command.targetPercent !== undefined) words.push("--target", String(command.targetPercent));
      break;
    case "reject":
      words.push(command.proposalId);
      if (command.reason !== undefined) words.push(command.reason);
      break;
    case "simulate":
      words.push(command.proposalId, "--target", String(command.targetPercent));
      break;
    case "help":
      if (command.topic !== undefined) words.push(command.topic);
      break;
    case "status":
      break;
  }
  return words.map(quoteWord).join(" ");
}

// ---- the pieces of a command ----

const PREFIX = /^[/@]slo-scout(?=\s|$)/i;
const HELP_FLAGS = new Set(["--help", "-h"]);
/** C0/C1 controls other than tab and line breaks, and the bidirectional overrides that disguise text. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const CONTROL_CHARACTER = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

/** Lowercase, a letter or digit first, at most 63 characters, and a valid git branch name component. */
const SERVICE = /^(?!.*\.\.)[a-z0-9][a-z0-9._-]{0,62}(?<!\.|\.lock)$/;
/** As `src/analysis/analyze.ts` makes them: `prop-` and 12 hex digits of a hash. */
const PROPOSAL_ID = /^prop-[0-9a-f]{12}$/;
/** `<service> <method> <route>` and its variants (`<service> <rpc service/method>`), printable words only. */
const JOURNEY_KEY = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}(?: [A-Za-z0-9._~:/{}@+*=,-]+){1,4}$/;
const TARGET = /^(?:\d+(?:\.\d+)?|\.\d+)%?$/;
const MIN_WINDOW_MS = 3_600_000;
const MAX_WINDOW_MS = 365 * 86_400_000;

function readService(verb: Verb, word: string): string | CommandError {
  const service = word.toLowerCase();
  if (SERVICE.test(service)) return service;
  return error(
    "bad-argument",
    `${show(word)} is not a service name: lowercase letters, digits, '.', '_' and '-', starting with a ` +
      "letter or digit, at most 63 characters.",
    verb,
  );
}

function readProposalId(verb: Verb, word: string): string | CommandError {
  const id = word.toLowerCase();
  if (PROPOSAL_ID.test(id)) return id;
  return error(
    "bad-argument",
    `${show(word)} is not a proposal id; ids look like prop-3f2a9c0d1b2e (see \`proposals\`).`,
    verb,
  );
}

function readJourney(word: string): string | CommandError {
  const segments = word.split(" ").flatMap((w) => w.split("/"));
  if (JOURNEY_KEY.test(word) && !segments.some((s) => s === "." || s === "..")) return word;
  return error(
    "bad-argument",
    `${show(word)} is not a journey key; keys look like 'api-gateway POST /api/checkout' (quote them).`,
    "analyze",
  );
}

function readWindow(word: string): SloWindow | CommandError {
  const text = word.toLowerCase();
  const ms = parseDuration(text);
  if (ms !== undefined && ms >= MIN_WINDOW_MS && ms <= MAX_WINDOW_MS) return { text, ms };
  return error(
    "bad-argument",
    `--window must be a duration from 1h to 365d such as 28d, 30d, 4w or 12h; got ${show(word)}.`,
    "analyze",
  );
}

function readTarget(verb: Verb, word: string): number | CommandError {
  if (TARGET.test(word)) {
    const value = Number(word.replace(/%$/, ""));
    // Below 1 without a % sign is a ratio: nobody means a 0.999% target.
    const percent = word.endsWith("%") || value >= 1 ? value : Number((value * 100).toPrecision(12));
    if (percent > 0 && percent < 100) return percent;
  }
  return error(
    "bad-argument",
    `--target must be a percentage between 0 and 100 (exclusive) such as 99.9, or a ratio such as 0.999; ` +
      `got ${show(word)}.`,
    verb,
  );
}

// ---- verbs ----

interface Args {
  positionals: string[];
  flags: Map<string, string>;
}

type Parser = (words: string[]) => ParsedCommand;

const PARSERS: Record<Verb, Parser> = {
  analyze: (words) =>
    withArgs("analyze", words, (args) => {
      const [word, extra] = args.positionals;
      if (word === undefined) return missing("analyze", "Name the service to analyze.");
      if (extra !== undefined) return tooMany("analyze", extra);
      const service = readService("analyze", word);
      if (isError(service)) return failWith(service);
      const windowWord = args.flags.get("--window");
      const window = windowWord === undefined ? readWindow(DEFAULT_WINDOW) : readWindow(windowWord);
      if (isError(window)) return failWith(window);
      const journeyWord = args.flags.get("--journey");
      if (journeyWord === undefined) return success({ verb: "analyze", service, window });
      const journey = readJourney(journeyWord);
      if (isError(journey)) return failWith(journey);
      return success({ verb: "analyze", service, window, journey });
    }),

  proposals: (words) =>
    withArgs("proposals", words, (args) => {
      const [word, extra] = args.positionals;
      if (extra !== undefined) return tooMany("proposals", extra);
      if (word === undefined) return success({ verb: "proposals" });
      const service = readService("proposals", word);
      return isError(service) ? failWith(service) : success({ verb: "proposals", service });
    }),

  approve: (words) =>
    withArgs("approve", words, (args) => {
      if (args.positionals.length === 0) {
        return missing("approve", "Name the proposal ids to approve (or all).");
      }
      const targetWord = args.flags.get("--target");
      const targetPercent = targetWord === undefined ? undefined : readTarget("approve", targetWord);
      if (isError(targetPercent)) return failWith(targetPercent);
      const target = targetPercent === undefined ? {} : { targetPercent };
      if (args.positionals.some((w) => w.toLowerCase() === "all")) {
        if (args.positionals.length > 1) {
          return fail("bad-argument", "Approve either all proposals or a list of ids, not both.", "approve");
        }
        return success({ verb: "approve", proposals: "all", ...target });
      }
      const ids: string[] = [];
      for (const word of args.positionals) {
        const id = readProposalId("approve", word);
        if (isError(id)) return failWith(id);
        if (!ids.includes(id)) ids.push(id);
      }
      return success({ verb: "approve", proposals: ids, ...target });
    }),

  // The reason is free text, so nothing after the id is read as a flag.
  reject: ([word, ...reasonWords]) => {
    if (word !== undefined && HELP_FLAGS.has(word.toLowerCase())) return helpFor("reject");
    if (word === undefined) return missing("reject", "Name the proposal id to reject.");
    const proposalId = readProposalId("reject", word);
    if (isError(proposalId)) return failWith(proposalId);
    const reason = reasonWords.join(" ").trim();
    return success({ verb: "reject", proposalId, ...(reason ? { reason } : {}) });
  },

  simulate: (words) =>
    withArgs("simulate", words, (args) => {
      const [word, extra] = args.positionals;
      if (word === undefined) return missing("simulate", "Name the proposal id to simulate.");
      if (extra !== undefined) return tooMany("simulate", extra);
      const proposalId = readProposalId("simulate", word);
      if (isError(proposalId)) return failWith(proposalId);
      const targetWord = args.flags.get("--target");
      if (targetWord === undefined) return missing("simulate", "Give the target to simulate: --target 99.9.");
      const targetPercent = readTarget("simulate", targetWord);
      if (isError(targetPercent)) return failWith(targetPercent);
      return success({ verb: "simulate", proposalId, targetPercent });
    }),

  status: (words) =>
    withArgs("status", words, (args) => {
      const [extra] = args.positionals;
      return extra === undefined ? success({ verb: "status" }) : tooMany("status", extra);
    }),

  help: (words) => parseHelp(words),
};

function parseHelp(words: string[]): ParsedCommand {
  const [word, extra] = words.filter((w) => !HELP_FLAGS.has(w.toLowerCase()));
  if (extra !== undefined) return tooMany("help", extra);
  if (word === undefined) return success({ verb: "help" });
  const topic = asVerb(word.toLowerCase());
  return topic ? success({ verb: "help", topic }) : unknownVerb(word);
}

/** Splits a verb's words into positionals and its flags (`--flag value` or `--flag=value`), then parses. */
function withArgs(verb: Verb, words: string[], parse: (args: Args) => ParsedCommand): ParsedCommand {
  const allowed = SPECS[verb].flags;
  const args: Args = { positionals: [], flags: new Map() };
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (!word.startsWith("-") || word === "-") {
      args.positionals.push(word);
      continue;
    }
    const eq = word.indexOf("=");
    const name = (eq < 0 ? word : word.slice(0, eq)).toLowerCase();
    if (HELP_FLAGS.has(name)) return helpFor(verb);
    if (!allowed.includes(name)) return unknownFlag(verb, word.slice(0, eq < 0 ? undefined : eq));
    if (args.flags.has(name)) return fail("bad-argument", `${name} is given twice.`, verb);
    const value = eq < 0 ? words[i + 1] : word.slice(eq + 1);
    if (value === undefined || (eq < 0 && value.startsWith("--"))) {
      return missing(verb, `${name} needs a value.`);
    }
    if (eq < 0) i++;
    args.flags.set(name, value);
  }
  return parse(args);
}

// ---- results ----

function success(command: Command): ParsedCommand {
  return { ok: true, command };
}

function error(code: CommandErrorCode, message: string, verb?: Verb, suggestion?: string): CommandError {
  return { code, message, ...(suggestion !== undefined ? { suggestion } : {}), help: helpText(verb) };
}

function isError<T>(value: T | CommandError): value is CommandError {
  return typeof value === "object" && value !== null && "code" in value && "help" in value;
}

function failWith(err: CommandError): ParsedCommand {
  return { ok: false, error: err };
}

function fail(code: CommandErrorCode, message: string, verb?: Verb, suggestion?: string): ParsedCommand {
  return failWith(error(code, message, verb, suggestion));
}

function missing(verb: Verb, message: string): ParsedCommand {
  return fail("missing-argument", `${message} Usage: ${SPECS[verb].usage}`, verb);
}

function tooMany(verb: Verb, extra: string): ParsedCommand {
  return fail("extra-argument", `Unexpected ${show(extra)}. Usage: ${SPECS[verb].usage}`, verb);
}

function helpFor(verb: Verb): ParsedCommand {
  return success({ verb: "help", topic: verb });
}

function unknownVerb(word: string): ParsedCommand {
  const suggestion = closest(word.toLowerCase(), VERBS);
  const hint = suggestion ? ` Did you mean \`${suggestion}\`?` : "";
  return fail("unknown-verb", `Unknown command ${show(word)}.${hint}`, undefined, suggestion);
}

function unknownFlag(verb: Verb, flag: string): ParsedCommand {
  const allowed = SPECS[verb].flags;
  const suggestion = closest(flag.toLowerCase(), allowed);
  const known = allowed.length > 0 ? ` It takes ${allowed.join(", ")}.` : " It takes no flags.";
  const hint = suggestion ? ` Did you mean \`${suggestion}\`?` : known;
  return fail("unknown-flag", `\`${verb}\` has no flag ${show(flag)}.${hint}`, verb, suggestion);
}

function asVerb(word: string): Verb | undefined {
  return (VERBS as readonly string[]).includes(word) ? (word as Verb) : undefined;
}

/**
 * The candidate a typo most likely meant: the nearest within an edit or two (one for short words, so `st`
 * does not become `status`), else the only candidate the word begins (`sim` → `simulate`).
 */
function closest(word: string, candidates: readonly string[]): string | undefined {
  const limit = word.length <= 4 ? 1 : 2;
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  if (best !== undefined) return best;
  const prefixed = candidates.filter((c) => word.length >= 3 && c.startsWith(word));
  return prefixed.length === 1 ? prefixed[0] : undefined;
}

/** Optimal string alignment distance: Levenshtein plus swapping two neighbours (`aprpove`) as one edit. */
function editDistance(a: string, b: string): number {
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      }
      rows[i]![j] = d;
    }
  }
  return rows[a.length]![b.length]!;
}

/**
 * A word of the user's as it is echoed in a reply: shortened, on one line and in a code span, so a reply
 * cannot be made to mention people or render links.
 */
function show(word: string): string {
  const flat = word.replace(/[`\s]+/g, " ").trim();
  if (flat === "") return "an empty word";
  return `\`${flat.length > 40 ? `${flat.slice(0, 40)}…` : flat}\``;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
