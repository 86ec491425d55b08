import { type AddressInfo, connect } from "node:net";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { MemoryBus } from "../../src/pipeline/bus/memory.js";
import { buildServer, type ServerDeps } from "../../src/server/app.js";
import { exitOnSignals, shutdown } from "../../src/server/shutdown.js";
import type { JobQueue, Sql } from "../../src/store/ports.js";

const logger = pino({ level: "silent" });

/** Backends that record when they are closed, so the order is visible. */
function deps(log: string[], bus: MemoryBus): ServerDeps {
  return {
    config: loadConfig({}, "/nonexistent/slo-scout.yml"),
    logger,
    bus,
    sql: {
      query: async () => ({ rows: [], rowCount: 0 }),
      close: async () => void log.push("sql.close"),
    } as unknown as Sql,
    queue: { ping: async () => {}, close: async () => void log.push("queue.close") } as unknown as JobQueue,
  };
}

describe("shutdown", () => {
  it("finishes an in-flight request, drains the bus, stops workers, then closes the stores", async () => {
    const log: string[] = [];
    const bus = new MemoryBus();
    const consumed: number[] = [];
    await bus.subscribe<number>("t", "g", async (batch) => {
      await new Promise((r) => setTimeout(r, 50));
      consumed.push(...batch.messages.map((m) => m.value));
      log.push("bus.consumed");
    });
    const d = deps(log, bus);
    let started!: () => void;
    const handlerStarted = new Promise<void>((r) => {
      started = r;
    });
    const app = await buildServer(d, {
      plugins: [
        async (a) => {
          a.post("/slow", async () => {
            started();
            await new Promise((r) => setTimeout(r, 150));
            await bus.publish("t", [{ key: "k", value: 1 }]);
            log.push("request.done");
            return { accepted: 1 };
          });
        },
      ],
    });
    await app.listen({ host: "127.0.0.1", port: 0 });
    const { port } = app.server.address() as AddressInfo;
    const inFlight = fetch(`http://127.0.0.1:${port}/slow`, { method: "POST" });
    await handlerStarted;
    const worker = { stop: async () => void log.push("worker.stop") };
    const code = await shutdown(app, d, { workers: [worker] });
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ accepted: 1 });
    expect(code).toBe(0);
    expect(consumed).toEqual([1]);
    expect(log).toEqual(["request.done", "bus.consumed", "worker.stop", "queue.close", "sql.close"]);
    await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
  });

  it("answers a request that arrives while closing with a uniform 503", async () => {
    const bus = new MemoryBus();
    const d = deps([], bus);
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const app = await buildServer(d, {
      plugins: [
        async (a) => {
          a.get("/hold", async () => {
            await gate;
            return "done";
          });
        },
      ],
    });
    await app.listen({ host: "127.0.0.1", port: 0 });
    const { port } = app.server.address() as AddressInfo;
    const holding = fetch(`http://127.0.0.1:${port}/hold`);
    // A client half-way through sending its request when shutdown begins: the connection is busy, so
    // closing does not drop it, and the request completes after the server started closing.
    const socket = connect({ host: "127.0.0.1", port });
    await new Promise((r) => socket.once("connect", r));
    socket.write("GET /health HTTP/1.1\r\nHost: x\r\n");
    await new Promise((r) => setTimeout(r, 50));
    const closing = app.close();
    await new Promise((r) => setTimeout(r, 20));
    let raw = "";
    socket.on("data", (c) => {
      raw += c.toString();
    });
    const ended = new Promise((r) => socket.once("close", r));
    socket.write("\r\n");
    await ended;
    expect(raw).toMatch(/^HTTP\/1\.1 503/);
    expect(raw).toMatch(/^retry-after: 1$/im);
    expect(raw).toMatch(/^connection: close$/im);
    expect(raw).toContain('{"error":{"code":"unavailable","message":"server is shutting down"}}');
    release();
    expect(await (await holding).text()).toBe("done");
    await closing;
    await bus.close();
  });

  it("still closes everything when one step fails, and reports exit code 1", async () => {
    const log: string[] = [];
    const bus = new MemoryBus();
    const d = deps(log, bus);
    d.queue = { close: async () => Promise.reject(new Error("redis gone")) } as unknown as JobQueue;
    const app = await buildServer(d);
    expect(await shutdown(app, d)).toBe(1);
    expect(log).toEqual(["sql.close"]);
  });

  it("shuts down on a signal and exits with the result; a second signal exits 1 at once", async () => {
    const log: string[] = [];
    const bus = new MemoryBus();
    const d = deps(log, bus);
    const app = await buildServer(d);
    const exits: number[] = [];
    const done = new Promise<void>((resolve) => {
      const remove = exitOnSignals(app, d, {
        signals: ["SIGUSR2"],
        exit: (c) => {
          exits.push(c);
          if (exits.length === 2) {
            remove();
            resolve();
          }
        },
      });
    });
    process.emit("SIGUSR2", "SIGUSR2");
    process.emit("SIGUSR2", "SIGUSR2");
    await done;
    expect(exits).toEqual([1, 0]);
    expect(log).toEqual(["queue.close", "sql.close"]);
  });
});
