import { describe, expect, it } from "vitest";
import {
  type Command,
  type CommandErrorCode,
  formatCommand,
  helpText,
  MAX_COMMAND_LENGTH,
  parseCommand,
  VERBS,
} from "../../src/app/command-language.js";

const ID = "prop-3f2a9c0d1b2e";
const ID2 = "prop-000000000abc";
const DAY = 86_400_000;

function command(input: string): Command {
  const r = parseCommand(input);
  if (!r.ok) throw new Error(`expected ${JSON.stringify(input)} to parse: ${r.error.message}`);
  return r.command;
}

function refusal(input: string, code: CommandErrorCode) {
  const r = parseCommand(input);
  if (r.ok) throw new Error(`expected ${JSON.stringify(input)} to fail, got ${JSON.stringify(r.command)}`);
  expect(r.error.code, r.error.message).toBe(code);
  expect(r.error.help.length).toBeGreaterThan(0);
  return r.error;
}

describe("every verb", () => {
  it("analyze: service, default window, --window, --journey", () => {
    expect(command("analyze checkout")).toEqual({
      verb: "analyze",
      service: "checkout",
      window: { text: "28d", ms: 28 * DAY },
    });
    expect(command("analyze checkout --window 30d")).toMatchObject({ window: { text: "30d", ms: 30 * DAY } });
    expect(command("analyze checkout --window=4w")).toMatchObject({ window: { text: "4w", ms: 28 * DAY } });
    expect(command("analyze checkout --window 12h")).toMatchObject({ window: { text: "12h", ms: DAY / 2 } });
    expect(command("analyze api-gateway --journey 'api-gateway POST /api/checkout'")).toEqual({
      verb: "analyze",
      service: "api-gateway",
      window: { text: "28d", ms: 28 * DAY },
      journey: "api-gateway POST /api/checkout",
    });
    expect(command('analyze frontend --journey "frontend GET /products/{id}" --window 7d')).toMatchObject({
      journey: "frontend GET /products/{id}",
      window: { text: "7d" },
    });
    expect(command("analyze cart --journey 'checkout-grpc hipstershop.Cart/AddItem'")).toMatchObject({
      journey: "checkout-grpc hipstershop.Cart/AddItem",
    });
  });

  it("proposals: with and without a service", () => {
    expect(command("proposals")).toEqual({ verb: "proposals" });
    expect(command("proposals checkout")).toEqual({ verb: "proposals", service: "checkout" });
  });

  it("approve: one id, several ids, all, --target", () => {
    expect(command(`approve ${ID}`)).toEqual({ verb: "approve", proposals: [ID] });
    expect(command(`approve ${ID} ${ID2} ${ID}`)).toEqual({ verb: "approve", proposals: [ID, ID2] });
    expect(command("approve all")).toEqual({ verb: "approve", proposals: "all" });
    expect(command("approve ALL --target 99.5")).toEqual({
      verb: "approve",
      proposals: "all",
      targetPercent: 99.5,
    });
    expect(command(`approve --target 99.9 ${ID}`)).toEqual({
      verb: "approve",
      proposals: [ID],
      targetPercent: 99.9,
    });
  });

  it("reject: id and a free-text reason that is never read as flags", () => {
    expect(command(`reject ${ID}`)).toEqual({ verb: "reject", proposalId: ID });
    expect(command(`reject ${ID} too noisy for a page`)).toEqual({
      verb: "reject",
      proposalId: ID,
      reason: "too noisy for a page",
    });
    expect(command(`reject ${ID} --target is wrong, "don't page" me`)).toMatchObject({
      reason: "--target is wrong, don't page me",
    });
  });

  it("simulate: id and a required --target", () => {
    expect(command(`simulate ${ID} --target 99.95`)).toEqual({
      verb: "simulate",
      proposalId: ID,
      targetPercent: 99.95,
    });
    refusal(`simulate ${ID}`, "missing-argument");
    refusal("simulate --target 99", "missing-argument");
  });

  it("status and help", () => {
    expect(command("status")).toEqual({ verb: "status" });
    expect(command("help")).toEqual({ verb: "help" });
    expect(command("help approve")).toEqual({ verb: "help", topic: "approve" });
    expect(command("help HELP")).toEqual({ verb: "help", topic: "help" });
    expect(command("--help")).toEqual({ verb: "help" });
    expect(command("approve --help")).toEqual({ verb: "help", topic: "approve" });
    expect(command("analyze -h")).toEqual({ verb: "help", topic: "analyze" });
    expect(command("reject --help")).toEqual({ verb: "help", topic: "reject" });
    refusal("status now", "extra-argument");
    refusal("help approve reject", "extra-argument");
  });

  it("missing and extra arguments name the usage", () => {
    expect(refusal("analyze", "missing-argument").message).toContain("analyze <service>");
    refusal("analyze checkout payment", "extra-argument");
    refusal("approve", "missing-argument");
    refusal("approve --target 99", "missing-argument");
    refusal("reject", "missing-argument");
    refusal("proposals checkout payment", "extra-argument");
    refusal(`simulate ${ID} ${ID2} --target 99`, "extra-argument");
    refusal("analyze checkout --window", "missing-argument");
    refusal("analyze checkout --window --journey x", "missing-argument");
    refusal(`approve ${ID} --target 99 --target 98`, "bad-argument");
    refusal(`approve all ${ID}`, "bad-argument");
  });
});

describe("prefix, case and quoting", () => {
  it("accepts /slo-scout and @slo-scout, in any case, and surrounding whitespace", () => {
    expect(command("/slo-scout analyze checkout")).toMatchObject({ verb: "analyze", service: "checkout" });
    expect(command("@slo-scout status")).toEqual({ verb: "status" });
    expect(command("  /SLO-Scout   status \n")).toEqual({ verb: "status" });
    expect(refusal("/slo-scout", "empty").help).toBe(helpText());
    expect(refusal("/slo-scoutstatus", "unknown-verb"));
  });

  it("reads verbs, flags, services and ids case-insensitively", () => {
    expect(command("ANALYZE Checkout --WINDOW 28D")).toMatchObject({
      verb: "analyze",
      service: "checkout",
      window: { text: "28d" },
    });
    expect(command(`Approve ${ID.toUpperCase()} --Target 99.9`)).toEqual({
      verb: "approve",
      proposals: [ID],
      targetPercent: 99.9,
    });
  });

  it("keeps journey keys as typed (routes are case-sensitive)", () => {
    expect(command("analyze web --journey 'web GET /Cart'")).toMatchObject({ journey: "web GET /Cart" });
  });

  it("joins quoted pieces and reads escapes", () => {
    expect(command(`reject ${ID} it\\'s "a \\"noisy\\" one" 'for '"real"`)).toMatchObject({
      reason: `it's a "noisy" one for real`,
    });
    expect(command(`reject ${ID} “curly quotes” ok`)).toMatchObject({ reason: "curly quotes ok" });
    expect(command(`reject ${ID} don’t page`)).toMatchObject({ reason: "don’t page" });
    expect(command("analyze check\\\nout")).toMatchObject({ service: "checkout" });
  });

  it("refuses unbalanced quotes and a trailing backslash", () => {
    expect(refusal(`reject ${ID} 'unterminated`, "bad-quoting").message).toMatch(/single quote/);
    expect(refusal(`reject ${ID} "unterminated`, "bad-quoting").message).toMatch(/double quote/);
    refusal("status \\", "bad-quoting");
  });
});

describe("typos and unknown commands", () => {
  it.each([
    ["aprove", "approve"],
    ["aprpove", "approve"],
    ["analyse", "analyze"],
    ["anlyze", "analyze"],
    ["proposal", "proposals"],
    ["stats", "status"],
    ["halp", "help"],
    ["rejct", "reject"],
    ["sim", "simulate"],
  ])("%s → did you mean %s?", (typo, verb) => {
    const err = refusal(`${typo} something`, "unknown-verb");
    expect(err.suggestion).toBe(verb);
    expect(err.message).toContain(`Did you mean \`${verb}\`?`);
    expect(err.help).toBe(helpText());
  });

  it("suggests nothing for words far from every verb, and shows every usage", () => {
    const err = refusal("deploy production", "unknown-verb");
    expect(err.suggestion).toBeUndefined();
    expect(err.message).toBe("Unknown command `deploy`.");
    for (const verb of VERBS) expect(err.help).toContain(verb);
  });

  it("suggests the flag a typo meant, within the verb's own flags", () => {
    const err = refusal(`approve ${ID} --traget 99.9`, "unknown-flag");
    expect(err.suggestion).toBe("--target");
    expect(err.help).toBe(helpText("approve"));
    expect(refusal("analyze checkout --windw 28d", "unknown-flag").suggestion).toBe("--window");
    expect(refusal("analyze checkout --target 99", "unknown-flag").suggestion).toBeUndefined();
    expect(refusal("status --verbose", "unknown-flag").message).toContain("takes no flags");
    refusal("analyze checkout -w 28d", "unknown-flag");
  });

  it("help on an unknown verb is an unknown verb with a suggestion", () => {
    expect(refusal("help aprove", "unknown-verb").suggestion).toBe("approve");
  });

  it("refuses an empty command", () => {
    refusal("", "empty");
    refusal("   \n\t ", "empty");
  });
});

describe("nothing can steer a path", () => {
  it.each([
    "../etc",
    "..",
    "a/b",
    "checkout/../../x",
    "-rf",
    ".hidden",
    "a..b",
    "checkout.",
    "checkout.lock",
    "check out",
    "check\\out",
    "$HOME",
    "checkout;rm",
    "`id`",
    "x".repeat(64),
    "ünïcode",
  ])("service %j is refused", (service) => {
    // `-rf` is refused as an unknown flag, everything else as a bad service name.
    expect(parseCommand(`analyze '${service}'`).ok).toBe(false);
    expect(parseCommand(`proposals '${service}'`).ok).toBe(false);
  });

  it("accepts the service names telemetry uses", () => {
    for (const s of [
      "checkout",
      "api-gateway",
      "checkout-grpc",
      "svc_1",
      "a",
      "payments.v2",
      "x".repeat(63),
    ]) {
      expect(command(`proposals ${s}`)).toEqual({ verb: "proposals", service: s });
    }
  });

  it.each([
    "prop-3f2a9c0d1b2",
    "prop-3f2a9c0d1b2e0",
    "prop-3f2a9c0d1b2g",
    "prop-../../../etc",
    "../prop-3f2a9c0d1b2e",
    "3f2a9c0d1b2e",
    "sli-3f2a9c0d1b2e",
    "prop-3f2a9c0d1b2e/x",
  ])("proposal id %j is refused", (id) => {
    expect(refusal(`approve ${id}`, "bad-argument").message).toContain("prop-3f2a9c0d1b2e");
    refusal(`reject ${id} no`, "bad-argument");
    refusal(`simulate ${id} --target 99`, "bad-argument");
  });

  it.each([
    "api-gateway POST /api/../../etc",
    "api-gateway GET ./x",
    "api-gateway",
    "../x GET /",
    "api-gateway GET /a\\b",
    "api-gateway GET /a;b",
    "api-gateway GET /a?x=1",
    "api-gateway  GET /double-space",
    "a b c d e f",
  ])("journey key %j is refused", (key) => {
    refusal(`analyze api-gateway --journey '${key}'`, "bad-argument");
  });

  it("refuses NUL, other control characters and bidirectional overrides anywhere", () => {
    refusal("analyze check\u0000out", "bad-character");
    refusal(`reject ${ID} \u001b[31mred`, "bad-character");
    refusal(`reject ${ID} safe\u202etxt.exe`, "bad-character");
  });

  it("echoes user words shortened, on one line and in a code span", () => {
    const err = refusal(`approve ${"x".repeat(100)}`, "bad-argument");
    expect(err.message).toContain(`\`${"x".repeat(40)}…\``);
    expect(refusal("approve '@everyone `boom`'", "bad-argument").message).toContain("`@everyone boom`");
  });
});

describe("length bounds", () => {
  it("takes a command of exactly the limit and refuses one longer", () => {
    const reason = "y ".repeat(600);
    const atLimit = `reject ${ID} ${reason}`.slice(0, MAX_COMMAND_LENGTH);
    expect(command(atLimit)).toMatchObject({ verb: "reject" });
    expect(refusal(`${atLimit}z`, "too-long").message).toContain("1000");
  });

  it("refuses a word longer than 200 characters, quoted or not", () => {
    expect(command(`reject ${ID} ${"w".repeat(200)}`)).toMatchObject({ reason: "w".repeat(200) });
    refusal(`reject ${ID} ${"w".repeat(201)}`, "too-long");
    refusal(`analyze x --journey '${"a".repeat(201)}'`, "too-long");
  });
});

describe("targets and windows", () => {
  it.each([
    ["99.9", 99.9],
    ["0.999", 99.9],
    ["99.9%", 99.9],
    [".995", 99.5],
    ["0.5", 50],
    ["0.5%", 0.5],
    ["1", 1],
    ["99.99", 99.99],
    ["0.9999", 99.99],
  ])("--target %s reads %d percent", (text, percent) => {
    expect(command(`simulate ${ID} --target ${text}`)).toMatchObject({ targetPercent: percent });
  });

  it.each([
    "100",
    "0",
    "0%",
    "100%",
    "150",
    "-5",
    "abc",
    "1e2",
    "0x10",
    "99,9",
    "NaN",
    "Infinity",
    "99.9%%",
    "",
  ])("--target %j is refused", (text) => {
    expect(refusal(`approve ${ID} --target '${text}'`, "bad-argument").help).toBe(helpText("approve"));
  });

  it.each(["0", "30m", "366d", "28", "28 days", "d", "-1d", "1.5d", "forever", "28x"])(
    "--window %j is refused",
    (text) => {
      expect(refusal(`analyze checkout --window '${text}'`, "bad-argument").message).toContain("--window");
    },
  );
});

describe("help text", () => {
  it("lists every verb's usage line", () => {
    expect(helpText()).toMatchInlineSnapshot(`
      "SLO-Scout commands (in a comment, start with /slo-scout):
        analyze <service> [--window 28d] [--journey <key>]   find the service's journeys and propose SLOs with evidence
        proposals [<service>]                                list proposals with their ids, targets and confidence
        approve <proposal-id>...|all [--target 99.9]         commit the SLO spec, rules, alerts, dashboard and runbook as a change
        reject <proposal-id> [reason...]                     reject a proposal; the reason is kept with the decision
        simulate <proposal-id> --target <t>                  replay the history against a target: budget, breaches, pages and tickets
        status                                               what is running and which proposals wait for a decision
        help [verb]                                          these commands, or the details of one"
    `);
  });

  it("details one verb", () => {
    expect(helpText("approve")).toMatchInlineSnapshot(`
      "Usage: approve <proposal-id>...|all [--target 99.9]

      Commit the SLO spec, rules, alerts, dashboard and runbook as a change.
      --target 99.9     use this target instead of the recommended one (percent; 0.999 and 99.9% also work)
      Example: approve prop-3f2a9c0d1b2e --target 99.5
      Who may approve is the repository policy's (approvers); when it asks for a second approver (requireSecondApprover), the change opens once someone else approves the same proposals at the same target."
    `);
  });

  it("every example in the help parses", () => {
    for (const verb of VERBS) {
      for (const line of helpText(verb).split("\n")) {
        const example = /^Example: (.*)$/.exec(line)?.[1];
        if (example) expect(parseCommand(example).ok, example).toBe(true);
      }
    }
  });
});

describe("formatCommand", () => {
  it.each([
    "analyze checkout",
    "analyze checkout --window 30d --journey 'api-gateway POST /api/checkout'",
    "proposals",
    "proposals checkout",
    `approve ${ID} ${ID2} --target 99.5`,
    "approve all",
    `reject ${ID}`,
    `reject ${ID} 'it'\\''s too noisy'`,
    `simulate ${ID} --target 99.95`,
    "status",
    "help",
    "help simulate",
  ])("%s reads back to the same command", (text) => {
    const parsed = command(text);
    expect(formatCommand(parsed)).toBe(text);
    expect(command(formatCommand(parsed))).toEqual(parsed);
  });

  it("normalises what was typed", () => {
    expect(formatCommand(command("/slo-scout APPROVE prop-3F2A9C0D1B2E --target 0.999"))).toBe(
      `approve ${ID} --target 99.9`,
    );
    expect(formatCommand(command("analyze checkout --window 28d"))).toBe("analyze checkout");
  });
});
