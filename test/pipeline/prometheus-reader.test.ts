import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { chooseStep, PROMETHEUS_MAX_POINTS, PrometheusReader } from "../../src/pipeline/prometheus-reader.js";
import { freePort } from "../helpers/free-port.js";

/** Reader behaviour that needs no Prometheus: step choice and every way an answer can go wrong. */

const DAY = 86_400_000;

describe("chooseStep", () => {
  it("keeps 28 days under Prometheus's 11,000 points with a 5 minute step", () => {
    const step = chooseStep(0, 28 * DAY);
    expect(step).toBe(300);
    expect((28 * DAY) / 1000 / step).toBeLessThan(PROMETHEUS_MAX_POINTS);
  });

  it("never goes below the minimum step for short ranges", () => {
    expect(chooseStep(0, 60_000)).toBe(15);
    expect(chooseStep(0, 60_000, 60)).toBe(60);
  });

  it("stays under the limit for any range up to a year", () => {
    for (const days of [1, 2, 7, 30, 90, 365]) {
      const step = chooseStep(0, days * DAY);
      expect((days * DAY) / 1000 / step, `${days} days`).toBeLessThanOrEqual(PROMETHEUS_MAX_POINTS - 1);
    }
  });
});

describe("PrometheusReader errors", () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
    server = undefined;
  });

  async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
    server = createServer(handler);
    await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
    return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  }

  it("names the timeout when Prometheus does not answer in time", async () => {
    const url = await serve(() => {
      // never answers
    });
    const reader = new PrometheusReader(url, { timeoutMs: 200 });
    await expect(reader.queryRange("up", { start: 0, end: 60_000 })).rejects.toThrow(
      /did not answer within 200 ms/,
    );
  });

  it("says the server is unreachable", async () => {
    const port = await freePort();
    const reader = new PrometheusReader(`http://127.0.0.1:${port}`, { timeoutMs: 1000 });
    await expect(reader.labels()).rejects.toThrow(/unreachable.*ECONNREFUSED/);
  });

  it("quotes a non-JSON answer (e.g. a proxy's error page)", async () => {
    const url = await serve((_req, res) => res.writeHead(502).end("<html>Bad Gateway</html>"));
    await expect(new PrometheusReader(url).labels()).rejects.toThrow(
      /502 with a non-JSON body: <html>Bad Gateway/,
    );
  });

  it("passes on Prometheus's status, errorType and message", async () => {
    const url = await serve((_req, res) =>
      res.writeHead(422, { "content-type": "application/json" }).end(
        JSON.stringify({
          status: "error",
          errorType: "execution",
          error: "query timed out in expression evaluation",
        }),
      ),
    );
    const err = await new PrometheusReader(url).queryRange("up", { start: 0, end: 1000 }).catch((e) => e);
    expect(err.message).toMatch(/failed with 422 execution: query timed out/);
    expect(err.status).toBe(422);
    expect(err.errorType).toBe("execution");
  });

  it("sends the query, window, step and a server-side timeout as form fields", async () => {
    let form = new URLSearchParams();
    const url = await serve((req, res) => {
      let body = "";
      req.on("data", (c) => {
        body += c;
      });
      req.on("end", () => {
        form = new URLSearchParams(body);
        res.writeHead(200, { "content-type": "application/json" }).end(
          JSON.stringify({
            status: "success",
            data: {
              resultType: "matrix",
              result: [
                {
                  metric: { a: "1" },
                  values: [
                    [1, "+Inf"],
                    [2, "NaN"],
                    [3, "0.5"],
                  ],
                },
              ],
            },
          }),
        );
      });
    });
    const rows = await new PrometheusReader(url, { timeoutMs: 10_000 }).queryRange("rate(x[5m])", {
      start: 0,
      end: 28 * DAY,
    });
    expect(form.get("query")).toBe("rate(x[5m])");
    expect(form.get("step")).toBe("300");
    expect(form.get("start")).toBe("0");
    expect(form.get("end")).toBe(String((28 * DAY) / 1000));
    expect(form.get("timeout")).toBe("9s");
    expect(rows[0]!.samples.map((s) => s.value)).toEqual([Number.POSITIVE_INFINITY, Number.NaN, 0.5]);
    expect(rows[0]!.samples.map((s) => s.time)).toEqual([1000, 2000, 3000]);
  });

  it("refuses an inverted range and a bad URL before any request", async () => {
    const reader = new PrometheusReader("http://127.0.0.1:1");
    await expect(reader.queryRange("up", { start: 10, end: 5 })).rejects.toThrow(/start <= end/);
    expect(() => new PrometheusReader("localhost:9090 ")).toThrow(/not an http\(s\) URL/);
  });
});
