import { readFileSync } from "node:fs";
import pino from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import { loadConfig } from "../../../src/config.js";
import type { TelemetryEvent } from "../../../src/core/telemetry.js";
import { TOPICS } from "../../../src/pipeline/bus/bus.js";
import { MemoryBus } from "../../../src/pipeline/bus/memory.js";
import { buildServer } from "../../../src/server/app.js";
import { RECEIVER_ROUTES } from "../../../src/server/routes.js";
import { bodyOf } from "./harness.js";

/** The receivers mounted by the real server: what a client sent shows up on /metrics and on the bus. */

const fixture = readFileSync(new URL("../../fixtures/receivers/otlp-traces.json", import.meta.url));
const bus = new MemoryBus();
const received: TelemetryEvent[] = [];
let app: Awaited<ReturnType<typeof buildServer>>;
let url: string;

beforeAll(async () => {
  await bus.subscribe<TelemetryEvent>(TOPICS.rawTelemetry, "test", async (b) => {
    for (const m of b.messages) received.push(m.value);
  });
  const config = loadConfig({ OTLP_GRPC_PORT: "0", LOG_LEVEL: "silent" }, "/nonexistent/slo-scout.yml");
  app = await buildServer({ config, logger: pino({ level: "silent" }), bus }, { plugins: RECEIVER_ROUTES });
  url = await app.listen({ host: "127.0.0.1", port: 0 });
});

afterAll(async () => {
  await app?.close();
  await bus.close();
});

it("counts records and requests on the server's /metrics", async () => {
  for (let i = 0; i < 3; i++) {
    const res = await fetch(`${url}/v1/traces`, {
      method: "POST",
      body: bodyOf(fixture),
      headers: { "content-type": "application/json" },
    });
    expect(res.status).toBe(200);
  }
  const bad = await fetch(`${url}/ingest/fluentbit`, {
    method: "POST",
    body: '[{"log":"no service"}]',
    headers: { "content-type": "application/json" },
  });
  expect(bad.status).toBe(400);
  expect(await bad.json()).toEqual({
    error: { code: "bad_request", message: expect.stringMatching(/no service/) },
  });
  await bus.flush();
  expect(received).toHaveLength(6);

  const metrics = await (await fetch(`${url}/metrics`)).text();
  expect(metrics).toContain(
    'slo_scout_ingest_records_total{receiver="otlp-http",signal="traces",outcome="accepted"} 6',
  );
  expect(metrics).toContain(
    'slo_scout_ingest_records_total{receiver="fluentbit",signal="logs",outcome="rejected"} 1',
  );
  expect(metrics).toContain('slo_scout_ingest_requests_total{receiver="otlp-http",code="200"} 3');
  expect(metrics).toContain('slo_scout_ingest_requests_total{receiver="fluentbit",code="400"} 1');
  // Acknowledgements are timed per receiver; a refusal is not an acknowledgement.
  expect(metrics).toContain('slo_scout_ingest_ack_duration_seconds_count{receiver="otlp-http"} 3');
  expect(metrics).toMatch(/slo_scout_ingest_ack_duration_seconds_bucket\{le="10",receiver="otlp-http"\} 3/);
  expect(metrics).not.toContain('slo_scout_ingest_ack_duration_seconds_count{receiver="fluentbit"}');
  // The server's own routes keep their JSON parsing and error body.
  expect((await fetch(`${url}/nope`)).status).toBe(404);
});
