import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PrometheusHistory } from "../../src/history/remote-read-source.js";
import { PrometheusError } from "../../src/pipeline/prometheus-reader.js";
import { PrometheusRemoteReader } from "../../src/pipeline/prometheus-remote-read.js";
import { RemoteWriteClient, type WriteSeries } from "../../src/pipeline/remote-write-client.js";
import type { RangeResult } from "../../src/promql/types.js";
import { freePort } from "../helpers/free-port.js";
import {
  type PrometheusInstance,
  prometheusAvailable,
  startPrometheus,
} from "../helpers/prometheus-instance.js";

/**
 * remote_read against Debian's Prometheus 2.42: history goes in through its remote-write receiver, comes
 * back over remote_read as SAMPLES and as STREAMED_XOR_CHUNKS sample for sample, and an SLI's PromQL
 * evaluated over it gives what Prometheus's own query_range gives; a server without remote_read is read
 * with query_range instead.
 */

const MIN = 60_000;
const END = Date.UTC(2026, 10, 20);
const START = END - 2 * 86_400_000;

/** A few series of two days at a 30 s scrape: counters (one with a reset), a noisy gauge, jittered times. */
function history(): WriteSeries[] {
  let seed = 11;
  const rand = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const out: WriteSeries[] = [];
  for (const [code, rate] of [
    ["200", 40],
    ["500", 0.7],
  ] as const) {
    const timestamps: number[] = [];
    const values: number[] = [];
    let c = 0;
    for (let t = START; t <= END; t += 30_000) {
      timestamps.push(t + Math.floor(rand() * 900));
      if (code === "500" && t === START + 86_400_000) c = 0;
      c += Math.floor(rand() * rate * 2);
      values.push(c);
    }
    out.push({ labels: { __name__: "http_requests_total", service: "checkout", code }, timestamps, values });
  }
  const timestamps: number[] = [];
  const values: number[] = [];
  for (let t = START; t <= END; t += 30_000) {
    timestamps.push(t);
    values.push(rand() * 1e6 - 5e5);
  }
  out.push({ labels: { __name__: "queue_depth", service: "checkout" }, timestamps, values });
  return out;
}

function close(a: RangeResult, b: RangeResult): void {
  expect(a.timestamps).toEqual(b.timestamps);
  expect(a.series.length).toBe(b.series.length);
  for (const [i, s] of a.series.entries()) {
    const o = b.series[i]!;
    expect(s.labels).toEqual(o.labels);
    expect(Array.from(s.present)).toEqual(Array.from(o.present));
    for (let k = 0; k < s.values.length; k++) {
      if (!s.present[k]) continue;
      expect(Math.abs(s.values[k]! - o.values[k]!)).toBeLessThanOrEqual(
        1e-9 * Math.max(1, Math.abs(o.values[k]!)),
      );
    }
  }
}

const available = await prometheusAvailable();

describe.runIf(available)("remote_read from a real Prometheus", () => {
  let prom: PrometheusInstance;
  const written = history();

  beforeAll(async () => {
    prom = await startPrometheus();
    await new RemoteWriteClient(`${prom.url}/api/v1/write`).writeHistory(written);
  }, 60_000);

  afterAll(async () => {
    await prom?.remove();
  });

  it.each([["streamed-xor-chunks"], ["samples"]] as const)(
    "returns every written sample exactly as %s",
    async (type) => {
      const reader = new PrometheusRemoteReader(prom.url, { accept: [type] });
      const got = await reader.read([{ name: "service", op: "=", value: "checkout" }], START, END);
      expect(got.responseType).toBe(type);
      const key = (l: Record<string, string>) => JSON.stringify(Object.entries(l).sort());
      const byKey = new Map(got.series.map((s) => [key(s.labels), s]));
      expect(byKey.size).toBe(written.length);
      for (const w of written) {
        const s = byKey.get(key(w.labels))!;
        const inRange = Array.from(w.timestamps).filter((t) => t <= END);
        expect(Array.from(s.timestamps)).toEqual(inRange);
        expect(Array.from(s.values)).toEqual(Array.from(w.values).slice(0, inRange.length));
        expect(s.stale.every((x) => x === 0)).toBe(true);
      }
    },
  );

  it("selects with the matchers and cuts whole chunks to the asked range", async () => {
    const reader = new PrometheusRemoteReader(prom.url);
    const from = START + 3 * 3_600_000 + 7_000;
    const to = from + 40 * MIN;
    const got = await reader.read(
      [
        { name: "__name__", op: "=", value: "http_requests_total" },
        { name: "code", op: "=~", value: "5.." },
      ],
      from,
      to,
    );
    expect(got.series.map((s) => s.labels.code)).toEqual(["500"]);
    const ts = Array.from(got.series[0]!.timestamps);
    expect(ts.every((t) => t >= from && t <= to)).toBe(true);
    expect(ts.length).toBe(80);
  });

  it("chooses remote_read and evaluates an SLI's PromQL as Prometheus's query_range does", async () => {
    const viaRead = new PrometheusHistory(prom.url);
    const viaRange = new PrometheusHistory(prom.url, { mode: "query-range" });
    const step = 5 * MIN;
    for (const q of [
      'sum(increase(http_requests_total{service="checkout",code!~"5.."}[300001ms]))',
      "sum by (code) (rate(http_requests_total[1h]))",
      "max_over_time(queue_depth[30m])",
    ]) {
      const [a, b] = await Promise.all([
        viaRead.queryRange(q, START + step, END, step),
        viaRange.queryRange(q, START + step, END, step),
      ]);
      expect(a.series.length).toBeGreaterThan(0);
      close(a, b);
    }
    expect(viaRead.via).toBe("remote-read");
    expect(viaRange.via).toBe("query-range");
  });

  describe("a server without remote_read", () => {
    let proxy: Server;
    let proxyUrl: string;

    beforeAll(async () => {
      // Like Prometheus-compatible stores that serve the query API only: /api/v1/read is 404, the rest passes.
      proxy = createServer(async (req, res) => {
        if (req.url?.startsWith("/api/v1/read")) {
          res.writeHead(404, { "content-type": "text/plain" }).end("404 page not found\n");
          return;
        }
        const chunks: Buffer[] = [];
        for await (const c of req) chunks.push(c as Buffer);
        const upstream = await fetch(`${prom.url}${req.url}`, {
          method: req.method ?? "GET",
          headers: { "content-type": req.headers["content-type"] ?? "" },
          ...(chunks.length ? { body: Buffer.concat(chunks) } : {}),
        });
        res.writeHead(upstream.status, { "content-type": upstream.headers.get("content-type") ?? "" });
        res.end(Buffer.from(await upstream.arrayBuffer()));
      });
      const port = await freePort();
      await new Promise<void>((r) => proxy.listen(port, "127.0.0.1", r));
      proxyUrl = `http://127.0.0.1:${port}`;
    });

    afterAll(async () => {
      await new Promise((r) => proxy?.close(r));
    });

    it("is read with query_range in auto mode and refused when remote_read is required", async () => {
      const q = 'sum(increase(http_requests_total{service="checkout"}[300001ms]))';
      const auto = new PrometheusHistory(proxyUrl);
      const direct = new PrometheusHistory(prom.url, { mode: "query-range" });
      close(
        await auto.queryRange(q, START + 5 * MIN, END, 5 * MIN),
        await direct.queryRange(q, START + 5 * MIN, END, 5 * MIN),
      );
      expect(auto.via).toBe("query-range");
      await expect(
        new PrometheusHistory(proxyUrl, { mode: "remote-read" }).queryRange(q, START, END, 5 * MIN),
      ).rejects.toThrow(/answered 404: the server does not serve remote_read/);
    });
  });

  it("names an unreachable server instead of falling back", async () => {
    const port = await freePort();
    const err = await new PrometheusHistory(`http://127.0.0.1:${port}`)
      .queryRange("up", START, END, 5 * MIN)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PrometheusError);
    expect((err as Error).message).toMatch(/is unreachable/);
  });
});
