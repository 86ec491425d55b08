import { once } from "node:events";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A local stand-in for the parts of Slack's Web API the bot calls (`SLACK_API_URL` points here), plus
 * response URLs: it records every call with its decoded arguments and answers the way Slack documents
 * (`{ ok: true, … }`), so tests read what the bot posted without any network.
 */

export interface SlackCall {
  method: string;
  args: Record<string, unknown>;
  at: number;
  /** The token the call was made with (`Bearer …`). */
  authorization?: string;
}

export interface SlackStandIn {
  apiUrl: string;
  /** A response URL on the stand-in, as a slash command would carry. */
  responseUrl(id: string): string;
  calls: SlackCall[];
  /** Resolves with the first call (from `from` on) the predicate accepts. */
  waitFor(predicate: (c: SlackCall) => boolean, timeoutMs?: number, from?: number): Promise<SlackCall>;
  close(): Promise<void>;
}

/** The Web API's form fields: nested values (blocks, view) arrive as JSON strings. */
function decode(raw: string, contentType: string | undefined): Record<string, unknown> {
  if (contentType?.includes("application/json")) return JSON.parse(raw || "{}") as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(raw)) {
    out[k] = /^[[{]/.test(v) ? JSON.parse(v) : v;
  }
  return out;
}

async function read(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export async function startSlackStandIn(
  opts: {
    emails?: Record<string, string>;
    /** Channels the bot was not invited to: chat.postMessage there answers `not_in_channel`. */
    notInChannels?: string[];
    /** The WebSocket URL `apps.connections.open` hands out (Socket Mode). */
    socketUrl?: string;
  } = {},
): Promise<SlackStandIn> {
  const calls: SlackCall[] = [];
  let waiters: (() => void)[] = [];
  let ts = 1_700_000_000;
  const server: Server = createServer(async (req, res) => {
    const args = decode(await read(req), req.headers["content-type"]);
    const path = req.url ?? "/";
    const method = path.startsWith("/api/") ? path.slice(5).split("?")[0]! : `response:${path.slice(10)}`;
    const authorization = req.headers.authorization;
    calls.push({ method, args, at: Date.now(), ...(authorization ? { authorization } : {}) });
    for (const w of waiters) w();
    waiters = [];
    res.setHeader("content-type", "application/json");
    const answer = (body: Record<string, unknown>) => res.end(JSON.stringify({ ok: true, ...body }));
    switch (method) {
      case "auth.test":
        return answer({
          url: "https://example.slack.com/",
          team: "Example",
          user: "slo-scout",
          team_id: "T0001",
          user_id: "U0BOT",
          bot_id: "B0BOT",
        });
      case "chat.postMessage":
        if (opts.notInChannels?.includes(String(args.channel)))
          return res.end(JSON.stringify({ ok: false, error: "not_in_channel" }));
        ts += 1;
        return answer({ channel: args.channel, ts: `${ts}.000100`, message: { text: args.text } });
      case "chat.update":
        return answer({ channel: args.channel, ts: args.ts });
      case "users.info": {
        const id = String(args.user);
        return answer({
          user: { id, name: id.toLowerCase(), deleted: false, profile: { email: opts.emails?.[id] } },
        });
      }
      case "apps.connections.open":
        if (!opts.socketUrl) return res.end(JSON.stringify({ ok: false, error: "not_allowed_token_type" }));
        return answer({ url: opts.socketUrl });
      case "views.open":
        return answer({ view: { id: "V0MODAL" } });
      default:
        return answer({});
    }
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    apiUrl: `${base}/api/`,
    responseUrl: (id) => `${base}/response/${id}`,
    calls,
    async waitFor(predicate, timeoutMs = 30_000, from = 0) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = calls.slice(from).find(predicate);
        if (hit) return hit;
        const left = deadline - Date.now();
        if (left <= 0)
          throw new Error(`no matching Slack call; calls: ${calls.map((c) => c.method).join(", ")}`);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(t);
            resolve();
          });
        });
      }
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
