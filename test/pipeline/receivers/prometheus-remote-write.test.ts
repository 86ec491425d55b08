import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TelemetryEvent } from "../../../src/core/telemetry.js";
import { PrometheusReader } from "../../../src/pipeline/prometheus-reader.js";
import { requireService } from "../../helpers/services.js";
import { counter, type Harness, startHarness } from "./harness.js";
import { type PrometheusProcess, prometheusBinary, startPrometheus } from "./prometheus-process.js";

/**
 * A real Prometheus scrapes a tiny target and remote-writes to SLO-Scout; the samples must arrive on the
 * bus as metric events. The query_range reader is then checked against the same Prometheus.
 */

const available = await requireService("prometheus binary", async () => prometheusBinary());

describe.skipIf(!available)("real Prometheus", () => {
  let h: Harness;
  let target: Server;
  let prom: PrometheusProcess;
  const started = Date.now();

  beforeAll(async () => {
    h = await startHarness();
    target = createServer((req, res) => {
      if (req.url !== "/metrics") {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
      res.end(
        [
          "# HELP shop_requests_total Requests served.",
          "# TYPE shop_requests_total counter",
          'shop_requests_total{route="/checkout",code="200"} 42',
          'shop_requests_total{route="/checkout",code="500"} 3',
          "# HELP shop_queue_depth Jobs waiting.",
          "# TYPE shop_queue_depth gauge",
          "shop_queue_depth 7",
          "",
        ].join("\n"),
      );
    });
    await new Promise<void>((r) => target.listen(0, "127.0.0.1", r));
    const targetPort = (target.address() as { port: number }).port;
    prom = await startPrometheus(
      [
        "global:",
        "  scrape_interval: 1s",
        "  evaluation_interval: 1s",
        "scrape_configs:",
        "  - job_name: tiny-shop",
        "    static_configs:",
        `      - targets: ["127.0.0.1:${targetPort}"]`,
        "remote_write:",
        `  - url: ${h.url}/api/v1/write`,
        "    queue_config:",
        "      batch_send_deadline: 500ms",
        "      min_backoff: 100ms",
        "      max_backoff: 1s",
        "    metadata_config:",
        "      send_interval: 1s",
        "",
      ].join("\n"),
    );
  }, 30_000);

  afterAll(async () => {
    await prom?.stop();
    await new Promise((r) => target?.close(r));
    await h?.close();
  });

  async function waitFor<T>(what: string, fn: () => T | undefined, timeoutMs = 20_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      await h.settle();
      const v = fn();
      if (v !== undefined) return v;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`timed out waiting for ${what}; Prometheus said: ${prom.output().slice(-1500)}`);
  }

  it("delivers scraped samples over remote_write as metric events", async () => {
    const errors = await waitFor("shop_requests_total{code=500} via remote_write", () =>
      h.received.find(
        (e) =>
          e.kind === "metric" && e.metric.name === "shop_requests_total" && e.metric.labels.code === "500",
      ),
    );
    expect(TelemetryEvent.parse(errors)).toEqual(errors);
    expect(errors).toMatchObject({
      kind: "metric",
      service: "tiny-shop",
      metric: { type: "counter", labels: { route: "/checkout", code: "500", job: "tiny-shop" } },
    });
    if (errors.kind !== "metric") throw new Error("not a metric");
    expect(errors.metric.samples.every((s) => s.value === 3 && s.time >= started - 60_000)).toBe(true);
    expect(errors.metric.labels.__name__).toBeUndefined();

    const up = await waitFor("up", () =>
      h.received.find((e) => e.kind === "metric" && e.metric.name === "up"),
    );
    expect(up).toMatchObject({ service: "tiny-shop", metric: { samples: [{ value: 1 }] } });
    expect(
      await counter(h.registry, "slo_scout_ingest_records_total", {
        receiver: "remote-write",
        signal: "metrics",
        outcome: "accepted",
      }),
    ).toBeGreaterThan(0);
    expect(
      await counter(h.registry, "slo_scout_ingest_requests_total", { receiver: "remote-write", code: "204" }),
    ).toBeGreaterThan(0);
    expect(
      await counter(h.registry, "slo_scout_ingest_requests_total", { receiver: "remote-write", code: "400" }),
    ).toBe(0);
  }, 30_000);

  it("reads the same series back with query_range, series and labels", async () => {
    const reader = new PrometheusReader(prom.url, { timeoutMs: 5_000 });
    let rows: Awaited<ReturnType<PrometheusReader["queryRange"]>> = [];
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      rows = await reader.queryRange('shop_requests_total{code="200"}', {
        start: started - 5_000,
        end: Date.now(),
        step: 1,
      });
      if ((rows[0]?.samples.length ?? 0) >= 3) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(rows).toHaveLength(1);
    expect(rows[0]!.metric).toMatchObject({
      __name__: "shop_requests_total",
      route: "/checkout",
      job: "tiny-shop",
    });
    expect(rows[0]!.samples.length).toBeGreaterThanOrEqual(3);
    expect(rows[0]!.samples.every((s) => s.value === 42)).toBe(true);

    // A 28-day range picks a step under the 11,000-point limit, which Prometheus accepts.
    const end = Date.now();
    const long = await reader.queryRange("shop_queue_depth", { start: end - 28 * 86_400_000, end });
    expect(long[0]?.samples.at(-1)?.value).toBe(7);

    const series = await reader.series(['{job="tiny-shop"}']);
    expect(series.map((s) => s.__name__)).toEqual(
      expect.arrayContaining(["shop_requests_total", "shop_queue_depth", "up"]),
    );
    expect(await reader.labels()).toEqual(expect.arrayContaining(["__name__", "code", "job", "route"]));
  }, 30_000);

  it("splits a fine explicit step over a long range into several requests", async () => {
    let calls = 0;
    const counting: typeof fetch = (input, init) => {
      calls++;
      return fetch(input, init);
    };
    const reader = new PrometheusReader(prom.url, { timeoutMs: 5_000, maxPoints: 2, fetch: counting });
    const end = Date.now();
    const rows = await reader.queryRange("shop_queue_depth", { start: end - 20_000, end, step: 1 });
    const times = rows[0]!.samples.map((s) => s.time);
    expect(calls).toBeGreaterThan(5);
    expect(new Set(times).size).toBe(times.length);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(times.length).toBeGreaterThanOrEqual(3);
  });

  it("reports Prometheus's own error for a bad query", async () => {
    const reader = new PrometheusReader(prom.url, { timeoutMs: 5_000 });
    await expect(reader.queryRange("sum(", { start: Date.now() - 60_000, end: Date.now() })).rejects.toThrow(
      /query_range failed with 400 bad_data/,
    );
  });
});
