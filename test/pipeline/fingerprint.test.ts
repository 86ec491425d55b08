import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { CapsuleEvent } from "../../src/core/capsule.js";
import { fingerprintBatch } from "../../src/pipeline/fingerprint/batch.js";
import { fingerprintOf, normalizeTemplate } from "../../src/pipeline/fingerprint/fingerprint.js";
import { Fingerprinter } from "../../src/pipeline/fingerprint/fingerprinter.js";
import { stripHeader } from "../../src/pipeline/fingerprint/header.js";
import { MAX_TOKENS, maskMessage, maskToken } from "../../src/pipeline/fingerprint/mask.js";
import { fingerprintMessage, messageOf } from "../../src/pipeline/fingerprint/message.js";
import { mergeToken, TemplateMiner } from "../../src/pipeline/fingerprint/miner.js";
import { createFingerprintStage } from "../../src/pipeline/fingerprint/stage.js";
import { createRedactor } from "../../src/pipeline/redact.js";

const templates = (lines: string[]) => fingerprintBatch(lines).map((r) => r.template);

describe("masking", () => {
  it.each([
    ["12345", "<*>"],
    ["-42", "<*>"],
    ["0x7f3a9c", "<*>"],
    ["3.14", "<*>"],
    ["250ms", "<*>"],
    ["126MB", "<*>"],
    ["10.0.0.1", "<*>"],
    ["10.0.0.1:8080", "<*>:<*>"],
    ["/10.0.0.1:8080", "<*>:<*>"],
    ["db.example.com:5432", "<*>:<*>"],
    ["/var/log/app.log", "<*>"],
    ["'/udev/vcs2'", "'<*>'"],
    ["https://example.com/a?b=1", "<*>"],
    ["3f2504e0-4f89-11d3-9a0c-0305e82c3301", "<*>"],
    ["fe80::1ff:fe23:4567:890a", "<*>"],
    ["uid=0", "uid=<*>"],
    ["(uid=0)", "(uid=<*>)"],
    ["mice.c(1766)", "mice.c(<*>)"],
    ["core.2275", "core.<*>"],
    ["blk_-1608999687919862906", "<*>"],
    ["v1.0.0", "<*>"],
    ["CPU#0", "CPU#<*>"],
    ["i-fetch......0", "i-fetch......<*>"],
    ["chdir(/home/x/y)", "chdir(<*>)"],
    ["<IP>", "<*>"],
    ["rhost=<IP>", "rhost=<*>"],
    ["ssh2", "ssh2"],
    ["ERROR", "ERROR"],
    ["user", "user"],
  ])("%s → %s", (token, masked) => {
    expect(maskToken(token)).toBe(masked);
  });

  it("splits on whitespace runs and joins a written-out date into one variable", () => {
    expect(maskMessage("connection from 1.2.3.4  at Fri Jun 17 07:07:00 2005")).toEqual([
      "connection",
      "from",
      "<*>",
      "at",
      "<*>:<*>:<*>",
    ]);
    expect(maskMessage("")).toEqual([]);
  });
});

describe("template mining", () => {
  it("groups lines that differ in variables and keeps the constant text", () => {
    const out = templates([
      "Failed password for root from 1.2.3.4 port 22 ssh2",
      "Failed password for admin from 5.6.7.8 port 2222 ssh2",
      "Failed password for guest from 9.9.9.9 port 1 ssh2",
      "Failed password for oracle from 9.9.9.8 port 3 ssh2",
      "Accepted password for root from 1.2.3.4 port 22 ssh2",
    ]);
    expect(out[0]).toBe("Failed password for <*> from <*> port <*> ssh2");
    expect(new Set(out.slice(0, 4)).size).toBe(1);
    expect(out[4]).toBe("Accepted password for root from <*> port <*> ssh2");
  });

  it("keeps the shape of merged tokens (rhost=<*>) instead of replacing them whole", () => {
    expect(mergeToken("rhost=a.example.net", "rhost=<*>")).toBe("rhost=<*>");
    expect(mergeToken("(reserved)", "(usable)")).toBe("(<*>)");
    expect(mergeToken("alpha", "beta")).toBe("<*>");
  });

  it("keeps a small set of words at one position as separate templates (enumerations)", () => {
    const lines = [];
    for (let i = 0; i < 20; i++)
      lines.push(`open through proxy p${i}.example.com:${1000 + i} ${i % 10 === 0 ? "SOCKS5" : "HTTPS"}`);
    const out = fingerprintBatch(lines);
    expect(out[0]!.template).toBe("open through proxy <*>:<*> SOCKS5");
    expect(out[1]!.template).toBe("open through proxy <*>:<*> HTTPS");
    expect(new Set(out.map((r) => r.fingerprint)).size).toBe(2);
  });

  it("turns a position into a variable once it holds more than a few distinct words", () => {
    const users = ["ann", "bob", "cyd", "dan", "eve", "fay"];
    const out = templates(users.map((u) => `session opened for user ${u} by (uid=0)`));
    expect(new Set(out)).toEqual(new Set(["session opened for user <*> by (uid=<*>)"]));
  });

  it("does not merge lines whose words differ in several places", () => {
    const out = templates(["cupsd startup succeeded", "cupsd shutdown succeeded"]);
    expect(out[0]).not.toBe(out[1]);
  });

  it("treats redaction placeholders as variables", () => {
    const redact = createRedactor();
    const out = fingerprintBatch(["login by a@x.io from 10.0.0.1", "login by b@y.io from 10.0.0.2"], {
      redactor: redact,
    });
    expect(out[0]!.template).toBe("login by <*> from <*>");
    expect(out[0]!.message).toBe("login by <EMAIL> from <IP>");
    expect(out[0]!.fingerprint).toBe(out[1]!.fingerprint);
  });

  it("uses the message field of JSON bodies", () => {
    const out = fingerprintBatch([
      '{"level":"error","msg":"payment 123 failed"}',
      '{"message":"payment 456 failed"}',
    ]);
    expect(out[0]!.template).toBe("payment <*> failed");
    expect(out[0]!.fingerprint).toBe(out[1]!.fingerprint);
  });
});

describe("fingerprints", () => {
  it("is sha256 of service, a newline and the normalized template", () => {
    // the normalized template keeps the constant words (see normalizeTemplate)
    const expected = createHash("sha256").update("checkout\nuser logged in").digest("hex");
    expect(fingerprintOf("checkout", "user <*> logged in")).toBe(expected);
    expect(fingerprintOf("checkout", "user <EMAIL> logged in")).toBe(expected);
    expect(fingerprintOf("cart", "user <*> logged in")).not.toBe(expected);
  });

  it("normalizes placeholders, variable-only tokens and units after variables", () => {
    expect(normalizeTemplate("<*>:<*> close, <*> bytes (<*> KB) sent")).toBe("close, sent");
    expect(normalizeTemplate("user <IP>  logged   in")).toBe("user logged in");
    expect(normalizeTemplate("took <*> ms for uid=<*>")).toBe("took for uid=<*>");
    expect(normalizeTemplate("bytes sent")).toBe("bytes sent");
  });

  it("is the same for the same input in every run (no hidden state)", () => {
    const lines = ["a 1 b", "a 2 b", "c d e"];
    expect(fingerprintBatch(lines, { service: "s" })).toEqual(fingerprintBatch(lines, { service: "s" }));
  });
});

describe("Fingerprinter (streaming, restartable)", () => {
  const stream: [string, string][] = [];
  for (let i = 0; i < 300; i++) {
    stream.push(["api", `GET /items/${i} 200 in ${i % 17}ms`]);
    stream.push(["api", `user u${i % 9}x logged in from 10.0.${i % 7}.${i % 250}`]);
    stream.push(["db", `checkpoint ${i} complete, wrote ${i * 3} buffers (${i % 50}.1%)`]);
    if (i % 40 === 0) stream.push(["db", `connection ${i} reset by peer host${i}`]);
  }

  it("restoring its state mid-stream gives the same fingerprints as an uninterrupted run", () => {
    const straight = new Fingerprinter();
    const expected = stream.map(([s, m]) => straight.process(s, m));
    const first = new Fingerprinter();
    const half = Math.floor(stream.length / 2);
    const got = stream.slice(0, half).map(([s, m]) => first.process(s, m));
    const saved = JSON.stringify(first.toJSON());
    const restored = Fingerprinter.fromJSON(JSON.parse(saved));
    got.push(...stream.slice(half).map(([s, m]) => restored.process(s, m)));
    expect(got).toEqual(expected);
    expect(JSON.stringify(restored.toJSON())).toBe(JSON.stringify(straight.toJSON()));
  });

  it("reports old fingerprints as aliases when a template generalizes", () => {
    const f = new Fingerprinter();
    const a = f.process("svc", "nightly backup job alpha finished ok");
    const b = f.process("svc", "nightly backup job beta finished ok");
    const c = f.process("svc", "nightly backup job gamma finished ok");
    const d = f.process("svc", "nightly backup job delta finished ok");
    expect(a.template).toBe("nightly backup job alpha finished ok");
    expect(b.template).toBe("nightly backup job beta finished ok");
    expect(c.template).toBe("nightly backup job gamma finished ok");
    expect(d.template).toBe("nightly backup job <*> finished ok");
    expect(new Set(d.aliases)).toEqual(new Set([a.fingerprint, b.fingerprint, c.fingerprint]));
    for (const old of [a, b, c]) expect(f.aliasOf(old.fingerprint)).toBe(d.fingerprint);
    expect(f.process("svc", "nightly backup job omega finished ok").fingerprint).toBe(d.fingerprint);
  });

  it("keeps services apart", () => {
    const f = new Fingerprinter();
    const a = f.process("a", "disk full on /dev/sda1");
    const b = f.process("b", "disk full on /dev/sda1");
    expect(a.template).toBe(b.template);
    expect(a.fingerprint).not.toBe(b.fingerprint);
  });

  it("rejects a malformed state with a clear error", () => {
    expect(() => Fingerprinter.fromJSON({} as never)).toThrow(/unsupported or malformed/);
    expect(() => TemplateMiner.fromJSON({ version: 2 } as never)).toThrow(/unsupported or malformed/);
  });
});

describe("header stripping (--raw)", () => {
  it.each([
    ["2024-01-05 10:00:00,123 INFO [main] com.shop.Cart: order 7 paid", "order 7 paid"],
    ["2024-01-05T10:00:00.123Z ERROR payment failed: timeout", "payment failed: timeout"],
    ["Jan  5 10:00:00 web-1 sshd[4242]: Accepted publickey for deploy", "Accepted publickey for deploy"],
    ["Jan  5 10:00:00 web-1 kernel: Out of memory: Kill process 123", "Out of memory: Kill process 123"],
    [
      "[Fri Jan 05 10:00:00 2024] [error] [client 10.0.0.1] File does not exist: /x",
      "[client 10.0.0.1] File does not exist: /x",
    ],
    ["240105 100000 77 WARN storage.Disk$Checker: disk 3 slow", "disk 3 slow"],
    ["01-05 10:00:00.123  1702  2395 D WindowManager: relayout done", "relayout done"],
    ["2024-01-05 10:00:00 - WARN  [Sync:Leader@42] - Follower lagging", "Follower lagging"],
    ["20240105-10:00:00:123|Step_Counter|30002312|onStep 42", "onStep 42"],
    ["[01.05 10:00:00] app.exe - host.example.com:443 open", "host.example.com:443 open"],
    [
      "- 1704448800 2024.01.05 n17 Jan 5 10:00:00 n17/n17 crond(pam_unix)[77]: session closed",
      "session closed",
    ],
    ["Jan  5 10:00:00 mac-1 Finder[311] (0x7fd7e3f0): view reloaded", "view reloaded"],
    [
      "api.log.1.2024-01-05_10:00:00 2024-01-05 10:00:00.008 25746 INFO nova.api.server [req-1a2b - - -] GET /v2 200",
      "GET /v2 200",
    ],
    ["2024-01-05 10:00:00, Info                  CBS    Loaded stack", "CBS    Loaded stack"],
  ])("%s", (line, message) => {
    expect(stripHeader(line)).toBe(message);
  });

  it("leaves a line without a header as it is", () => {
    expect(stripHeader("Connection reset by peer")).toBe("Connection reset by peer");
    expect(stripHeader("")).toBe("");
  });
});

describe("fingerprint message of an event", () => {
  const base = { schemaVersion: 1 as const, service: "api", time: 1, attributes: {} };
  const span = {
    traceId: "0".repeat(32),
    spanId: "1".repeat(16),
    name: "POST /pay",
    kind: "server" as const,
    startTime: 0,
    endTime: 1,
    status: "error" as const,
    attributes: {},
    events: [] as { name: string; time: number; attributes: Record<string, string> }[],
  };

  it("uses exception.type and message of a span's exception event", () => {
    const ev = {
      ...span,
      events: [
        {
          name: "exception",
          time: 1,
          attributes: { "exception.type": "TimeoutError", "exception.message": "db 7 slow" },
        },
      ],
    };
    expect(fingerprintMessage({ ...base, kind: "span", span: ev })).toBe("TimeoutError: db 7 slow");
  });

  it("falls back to the status message of an error span, and skips successful spans", () => {
    expect(fingerprintMessage({ ...base, kind: "span", span: { ...span, statusMessage: "boom" } })).toBe(
      "boom",
    );
    expect(fingerprintMessage({ ...base, kind: "span", span: { ...span, status: "ok" } })).toBeUndefined();
  });

  it("uses the JSON message field of a log body, and RUM exception name and message", () => {
    const log = { body: '{"msg":"cart 5 empty","level":"warn"}', severity: "warn" as const, attributes: {} };
    expect(fingerprintMessage({ ...base, kind: "log", log })).toBe("cart 5 empty");
    expect(messageOf('{"log":"{\\"message\\":\\"nested 1\\"}"}')).toBe("nested 1");
    expect(messageOf("{not json")).toBe("{not json");
    const rum = { type: "exception" as const, name: "TypeError", message: "x is undefined", values: {} };
    expect(fingerprintMessage({ ...base, kind: "rum", rum })).toBe("TypeError: x is undefined");
  });
});

describe("fingerprint stage (TelemetryEvent → CapsuleEvent)", () => {
  it("redacts, fingerprints and keeps severity and time; skips metrics", () => {
    const stage = createFingerprintStage();
    const ev = (body: string) => ({
      schemaVersion: 1 as const,
      kind: "log" as const,
      service: "shop",
      time: 1_700_000_000_000,
      attributes: {},
      log: { body, severity: "warn" as const, attributes: {} },
    });
    const a = stage(ev("refund for ann@example.com failed after 3 tries"))!;
    const b = stage(ev("refund for bob@example.com failed after 5 tries"))!;
    expect(CapsuleEvent.parse(a)).toBeTruthy();
    expect(a).toMatchObject({ service: "shop", severity: "warn", time: 1_700_000_000_000 });
    expect(a.sample).toBe("refund for <EMAIL> failed after 3 tries");
    expect(b.fingerprint).toBe(a.fingerprint);
    expect(JSON.stringify([a, b])).not.toContain("example.com");
    const metric = {
      schemaVersion: 1 as const,
      kind: "metric" as const,
      service: "shop",
      time: 1,
      attributes: {},
      metric: { name: "up", type: "gauge" as const, labels: {}, samples: [{ time: 1, value: 1 }] },
    };
    expect(stage(metric)).toBeUndefined();
  });
});

describe("long messages", () => {
  it("keeps the first tokens of a very long message and one <*> for the rest", () => {
    const long = (n: number, w: string) =>
      `dump ${Array.from({ length: n }, (_, i) => `${w}${i % 7}`).join(" ")}`;
    const out = fingerprintBatch([long(5000, "x"), long(9000, "x")]);
    expect(out[0]!.fingerprint).toBe(out[1]!.fingerprint);
    expect(out[0]!.template.split(" ")).toHaveLength(MAX_TOKENS);
    expect(out[0]!.template.endsWith(" <*>")).toBe(true);
  });
});
