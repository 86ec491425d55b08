import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AppContext, openApp } from "../../src/app/context.js";
import { type ChatHost, type ChatMessage, type ChatRequest, startChatJobs } from "../../src/bot/chat-jobs.js";
import { ConfigSchema } from "../../src/config.js";
import type { JobQueue } from "../../src/store/ports.js";
import { acquireChangeLocks } from "../../src/store/repos/change-locks.js";
import { openProposals, recordedProposals as proposals } from "../helpers/recorded-proposals.js";

/**
 * The chat-job runner with a recording host: the delivery is claimed once, every command is acknowledged
 * before its job runs, and every job ends in exactly one published reply (the answer, a lock refusal, or
 * a reason with a correlation id the log carries too).
 */

type Thread = { issue: number };
type Address = { comment: number; subject: string };

function recordingHost(name: string, overrides: Partial<ChatHost<Thread, Address>> = {}) {
  const acks: { text: string; subject: string; markdown: string }[] = [];
  const published: { address: Address; message: ChatMessage }[] = [];
  let waiters: (() => void)[] = [];
  let comments = 0;
  const host: ChatHost<Thread, Address> = {
    name,
    async acknowledge(request, running) {
      acks.push({ text: request.text, ...running });
      comments += 1;
      return { comment: comments, subject: running.subject };
    },
    async publish(_request, address, message) {
      published.push({ address, message });
      for (const w of waiters) w();
      waiters = [];
    },
    ...overrides,
  };
  const published$ = async (n: number) => {
    while (published.length < n) await new Promise<void>((resolve) => waiters.push(resolve));
    return published;
  };
  return { host, acks, published, published$ };
}

const request = (text: string, extra: Partial<ChatRequest<Thread>> = {}): ChatRequest<Thread> => ({
  text,
  actor: { login: "octocat", source: "github" },
  thread: { issue: 3 },
  ...extra,
});

describe("chat jobs", { timeout: 60_000 }, () => {
  let app: AppContext;
  const logs: Record<string, unknown>[] = [];

  beforeAll(async () => {
    const logger = pino(
      { level: "info" },
      { write: (line: string) => logs.push(JSON.parse(line) as Record<string, unknown>) },
    );
    app = await openApp(ConfigSchema.parse({ DATABASE_URL: "pglite://memory" }), { logger });
    await openProposals(app.sql);
  });
  afterAll(() => app?.close());

  it("acknowledges each command, queues it once per delivery, and publishes the reply", async () => {
    const { host, acks, published, published$ } = recordingHost("t1");
    const jobs = await startChatJobs(app, host);
    const first = await jobs.receive("delivery-1", [
      request("/slo-scout help approve"),
      request(`/slo-scout reject ${proposals[0]!.id} not now`, {
        actor: { login: "hubot", source: "github" },
      }),
    ]);
    expect(first.duplicate).toBe(false);
    expect(first.queued).toHaveLength(2);
    expect(acks.map((a) => a.subject)).toEqual(["general", "checkout"]);
    expect(acks[0]!.markdown).toContain("Running `help approve` for @octocat");

    expect(await jobs.receive("delivery-1", [request("/slo-scout help")])).toEqual({
      duplicate: true,
      queued: [],
    });
    await published$(2);
    expect(acks).toHaveLength(2);
    const help = published.find((p) => p.address.comment === 1)!.message;
    expect(help).toMatchObject({ ok: true, subject: "general" });
    expect(help.markdown).toContain("Usage: approve");
    const rejected = published.find((p) => p.address.comment === 2)!.message;
    expect(rejected.subject).toBe("checkout");
    expect(rejected.reply?.views[0]?.kind).toBe("proposals");
    expect(rejected.markdown).toContain("rejected");
  });

  it("answers a command the queue refuses with a reason and a correlation id the log carries", async () => {
    const broken: JobQueue = {
      add: async () => {
        throw new Error("queue down");
      },
      process: () => {},
      result: async () => {
        throw new Error("unused");
      },
      ping: async () => {},
      close: async () => {},
    };
    const { host, published } = recordingHost("t2");
    const jobs = await startChatJobs({ ...app, queue: async () => broken }, host);
    const r = await jobs.receive("delivery-2", [request("/slo-scout status")]);
    expect(r).toEqual({ duplicate: false, queued: [] });
    expect(published).toHaveLength(1);
    const m = published[0]!.message;
    expect(m.ok).toBe(false);
    expect(m.markdown).toContain("could not be queued");
    expect(m.markdown).toContain(m.correlationId);
    expect(logs.some((l) => l.correlationId === m.correlationId && l.level === 50)).toBe(true);
  });

  it("answers a job that fails with a reason and a correlation id", async () => {
    const { host, published$ } = recordingHost("t3", {
      context: async () => {
        throw new Error("installation token refused");
      },
    });
    const jobs = await startChatJobs(app, host);
    await jobs.receive("delivery-3", [request("/slo-scout status")]);
    const [m] = await published$(1);
    expect(m!.message.ok).toBe(false);
    expect(m!.message.markdown).toContain("failed unexpectedly");
    expect(logs.some((l) => l.correlationId === m!.message.correlationId)).toBe(true);
  });

  it("publishes the host's own refusal without running the command", async () => {
    const { host, published$ } = recordingHost("t5", {
      authorize: async (req) =>
        req.text.includes("approve")
          ? {
              code: "unauthorized",
              reason: "octocat has read access to acme/shop; approving needs write access",
            }
          : undefined,
    });
    const jobs = await startChatJobs(app, host);
    await jobs.receive("delivery-5", [request(`/slo-scout approve ${proposals[1]!.id}`)]);
    const [m] = await published$(1);
    expect(m!.message).toMatchObject({ ok: false, subject: "checkout" });
    expect(m!.message.markdown).toContain("Not authorized");
    expect(m!.message.markdown).toContain("approving needs write access");
  });

  it("refuses an approval while another conversation holds the service, and writes nothing", async () => {
    const repository = "acme/shop";
    await acquireChangeLocks(app.sql, {
      repository,
      owner: "github:acme/shop#9",
      services: ["checkout"],
      job: "other-job",
      now: app.now(),
      ttlMs: 60_000,
    });
    let gitHostOpened = false;
    const { host, published$ } = recordingHost("t4", {
      context: async () => ({
        ...app,
        gitHost: async () => {
          gitHostOpened = true;
          throw new Error("must not be reached");
        },
      }),
    });
    const jobs = await startChatJobs(app, host);
    await jobs.receive("delivery-4", [
      request(`/slo-scout approve ${proposals[0]!.id}`, {
        lock: { repository, owner: "github:acme/shop#3" },
      }),
    ]);
    const [m] = await published$(1);
    expect(m!.message).toMatchObject({ ok: false, subject: "checkout" });
    expect(m!.message.markdown).toContain("Held by another change");
    expect(m!.message.markdown).toContain("github:acme/shop#9");
    expect(gitHostOpened).toBe(false);
  });
});
