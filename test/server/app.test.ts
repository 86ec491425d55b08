import { execFileSync, spawnSync } from "node:child_process";
import type { AddressInfo } from "node:net";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { loadConfig } from "../../src/config.js";
import { counter, gauge, registry } from "../../src/observability/metrics.js";
import { BusSaturatedError } from "../../src/pipeline/bus/bus.js";
import { MemoryBus } from "../../src/pipeline/bus/memory.js";
import { buildServer, type RoutePlugin, type ServerDeps } from "../../src/server/app.js";
import { HttpError, unavailable } from "../../src/server/errors.js";
import type { BlobStore, Sql } from "../../src/store/ports.js";
import { MemoryQueue } from "../../src/store/queue-memory.js";
import { requireService } from "../helpers/services.js";

const logger = pino({ level: "silent" });
const config = (env: Record<string, string> = {}) => loadConfig(env, "/nonexistent/slo-scout.yml");

const fakeSql = (fail?: string): Sql =>
  ({
    engine: "pglite",
    query: async () => {
      if (fail) throw new Error(fail);
      return { rows: [{ "?column?": 1 }], rowCount: 1 };
    },
    close: async () => {},
  }) as unknown as Sql;

const fakeBlobs = (fail?: string): BlobStore =>
  ({
    ping: async () => {
      if (fail) throw new Error(fail);
    },
    close: async () => {},
  }) as unknown as BlobStore;

const opened: { close(): Promise<unknown> }[] = [];
async function server(
  deps: Partial<ServerDeps> = {},
  plugins: RoutePlugin[] = [],
  env: Record<string, string> = {},
) {
  const app = await buildServer({ config: config(env), logger, ...deps }, { plugins });
  opened.push(app);
  return app;
}
afterEach(async () => {
  while (opened.length) await opened.pop()!.close();
});

describe("GET /health", () => {
  it("answers 200 with one ok per configured backend", async () => {
    const bus = new MemoryBus();
    const queue = new MemoryQueue();
    opened.push(bus, queue);
    const app = await server({ sql: fakeSql(), blobs: fakeBlobs(), bus, queue });
    const res = await app.inject({ method: "GET", url: "/health" });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: "ok", checks: { db: "ok", blobs: "ok", bus: "ok", queue: "ok" } });
  });

  it("answers 503 naming the failing backend and its reason", async () => {
    const bus = new MemoryBus();
    await bus.close();
    const app = await server({
      sql: fakeSql("connect ECONNREFUSED 127.0.0.1:5432"),
      blobs: fakeBlobs(),
      bus,
    });
    const res = await app.inject({ method: "GET", url: "/health" });
    expect(res.statusCode).toBe(503);
    const body = res.json();
    expect(body.status).toBe("unavailable");
    expect(body.checks).toEqual({
      db: "error: connect ECONNREFUSED 127.0.0.1:5432",
      blobs: "ok",
      bus: "error: bus is closed",
    });
    expect(body.error.code).toBe("unhealthy");
    expect(body.error.message).toMatch(/^failing: db \(connect ECONNREFUSED.*\), bus \(bus is closed\)$/);
  });
});

describe("GET /live", () => {
  it("answers 200 while /health reports a backend down, asking no backend", async () => {
    let asked = 0;
    const sql = fakeSql("connect ECONNREFUSED 127.0.0.1:5432");
    const blobs = {
      ping: async () => {
        asked++;
        throw new Error("s3 at http://127.0.0.1:9000: connect ECONNREFUSED");
      },
      close: async () => {},
    } as unknown as BlobStore;
    const app = await server({ sql, blobs });
    const health = await app.inject({ method: "GET", url: "/health" });
    expect(health.statusCode).toBe(503);
    expect(health.json().checks).toMatchObject({ db: /^error: connect/, blobs: /^error: s3 at/ });
    asked = 0;
    const live = await app.inject({ method: "GET", url: "/live" });
    expect(live.statusCode).toBe(200);
    expect(live.json()).toEqual({ status: "alive" });
    expect(asked).toBe(0);
  });
});

describe("GET /metrics", () => {
  it("serves Prometheus text with process metrics, HTTP metrics and metrics other modules add", async () => {
    const ingested = counter("slo_scout_test_ingest_records_total", "records ingested", ["receiver"]);
    ingested.inc({ receiver: "otlp" }, 3);
    const app = await server();
    await app.inject({ method: "GET", url: "/health" });
    await app.inject({ method: "GET", url: "/no/such/page" });
    const res = await app.inject({ method: "GET", url: "/metrics" });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.body).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(res.body).toMatch(/^nodejs_eventloop_lag_seconds /m);
    expect(res.body).toContain('slo_scout_test_ingest_records_total{receiver="otlp"} 3');
    expect(res.body).toMatch(
      /slo_scout_http_requests_total\{method="GET",route="\/health",status_code="200"\} \d/,
    );
    // Unknown URLs share one label value instead of one series each.
    expect(res.body).toContain('route="unmatched",status_code="404"');
    expect(res.body).not.toContain("/no/such/page");
    expect(res.body).toContain("slo_scout_http_request_duration_seconds_bucket");
  });

  it("passes promtool's exposition-format check (apart from prom-client's own nodejs_* names)", async () => {
    const present = await requireService("promtool", async () => {
      execFileSync("promtool", ["--version"], { stdio: "ignore" });
    });
    if (!present) return;
    counter("slo_scout_test_lint_total", "a counter named as Prometheus asks", ["kind"]).inc({ kind: "x" });
    const app = await server();
    await app.inject({ method: "GET", url: "/health" });
    const text = (await app.inject({ method: "GET", url: "/metrics" })).body;
    const out = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
    const problems = `${out.stdout}${out.stderr}`
      .split("\n")
      .filter((l) => l.trim() !== "" && !l.startsWith("nodejs_"));
    expect(problems).toEqual([]);
    expect(out.status === 0 || out.status === 3).toBe(true);
  });

  it("gives a module the same metric when it asks twice, and refuses a type clash", () => {
    const a = counter("slo_scout_test_twice_total", "x");
    expect(counter("slo_scout_test_twice_total", "x")).toBe(a);
    expect(() => gauge("slo_scout_test_twice_total", "x")).toThrow(/already registered as another type/);
    expect(registry.getSingleMetric("slo_scout_test_twice_total")).toBe(a);
  });
});

describe("errors", () => {
  const routes: RoutePlugin = async (app, deps) => {
    app.get("/deps", async () => ({ port: deps.config.PORT, hasBus: deps.bus !== undefined }));
    app.get("/denied", async () => {
      throw new HttpError(401, "bad_signature", "signature does not match");
    });
    app.get("/busy", async () => {
      throw unavailable("store is down", 7);
    });
    app.get("/saturated", async () => {
      throw new BusSaturatedError("full");
    });
    app.get("/crash", async () => {
      throw new Error("secret connection string postgres://u:p@db");
    });
    app.post("/zod", async (req) => z.object({ service: z.string().min(1) }).parse(req.body));
    app.post(
      "/schema",
      { schema: { body: { type: "object", required: ["name"], properties: { name: { type: "string" } } } } },
      async () => ({ ok: true }),
    );
    app.post("/echo", async (req) => req.body);
  };

  const call = async (method: "GET" | "POST", url: string, extra: Record<string, unknown> = {}) => {
    const app = await server({}, [routes], { MAX_BODY_BYTES: "64" });
    const res = await app.inject({ method, url, ...extra });
    return { status: res.statusCode, body: res.json(), headers: res.headers };
  };

  it("hands plugins the server deps", async () => {
    expect((await call("GET", "/deps")).body).toEqual({ port: 3000, hasBus: false });
  });

  it("answers an unknown route with 404 and the uniform body", async () => {
    expect(await call("GET", "/nope?x=1")).toMatchObject({
      status: 404,
      body: { error: { code: "not_found", message: "no route for GET /nope" } },
    });
  });

  it("passes an HttpError's status, code and message through", async () => {
    expect(await call("GET", "/denied")).toMatchObject({
      status: 401,
      body: { error: { code: "bad_signature", message: "signature does not match" } },
    });
  });

  it("adds Retry-After to a 503 and turns a saturated bus into one", async () => {
    const busy = await call("GET", "/busy");
    expect(busy.status).toBe(503);
    expect(busy.headers["retry-after"]).toBe("7");
    const sat = await call("GET", "/saturated");
    expect(sat).toMatchObject({ status: 503, body: { error: { code: "unavailable" } } });
    expect(sat.headers["retry-after"]).toBe("1");
  });

  it("hides the details of an unexpected error", async () => {
    const res = await call("GET", "/crash");
    expect(res).toEqual({
      status: 500,
      body: { error: { code: "internal", message: "internal error" } },
      headers: expect.anything(),
    });
  });

  it("answers an invalid payload with 400 naming the field", async () => {
    expect(await call("POST", "/zod", { payload: { service: "" } })).toMatchObject({
      status: 400,
      body: { error: { code: "invalid_payload", message: expect.stringMatching(/^service: /) } },
    });
    expect(await call("POST", "/schema", { payload: { other: 1 } })).toMatchObject({
      status: 400,
      body: { error: { code: "bad_request", message: expect.stringContaining("name") } },
    });
  });

  it("answers malformed JSON, a wrong content type and an oversized body with the uniform body", async () => {
    const headers = { "content-type": "application/json" };
    expect(await call("POST", "/echo", { payload: "{not json", headers })).toMatchObject({
      status: 400,
      body: { error: { code: "bad_request" } },
    });
    expect(
      await call("POST", "/echo", { payload: "x", headers: { "content-type": "application/x-nope" } }),
    ).toMatchObject({
      status: 415,
      body: { error: { code: "unsupported_media_type" } },
    });
    expect(await call("POST", "/echo", { payload: { big: "x".repeat(100) } })).toMatchObject({
      status: 413,
      body: { error: { code: "payload_too_large" } },
    });
    expect((await call("POST", "/echo", { payload: { small: 1 } })).body).toEqual({ small: 1 });
  });
});

describe("listening", () => {
  it("serves over TCP", async () => {
    const app = await server();
    await app.listen({ host: "127.0.0.1", port: 0 });
    const { port } = app.server.address() as AddressInfo;
    const res = await fetch(`http://127.0.0.1:${port}/health`);
    expect(res.status).toBe(200);
  });
});
