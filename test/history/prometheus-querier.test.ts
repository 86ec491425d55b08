import nock from "nock";
import { afterEach, describe, expect, it } from "vitest";
import { PrometheusQuerier } from "../../src/history/prometheus-querier.js";

describe("PrometheusQuerier", () => {
  const url = "http://prometheus.test:9090";
  afterEach(() => {
    nock.cleanAll();
  });

  it("puts Prometheus's matrix on the query's step grid, with +Inf and missing steps", async () => {
    let sent: URLSearchParams | undefined;
    nock(url)
      .post("/api/v1/query_range")
      .reply(200, (_uri, body) => {
        sent = new URLSearchParams(body as string);
        return {
          status: "success",
          data: {
            resultType: "matrix",
            result: [
              {
                metric: { job: "a" },
                values: [
                  [60, "1.5"],
                  [180, "+Inf"],
                ],
              },
              { metric: { job: "b" }, values: [[120, "NaN"]] },
            ],
          },
        };
      });
    const r = await new PrometheusQuerier(url).queryRange("up", 60_000, 180_000, 60_000);
    expect([sent?.get("query"), sent?.get("start"), sent?.get("end"), sent?.get("step")]).toEqual([
      "up",
      "60",
      "180",
      "60",
    ]);
    expect(r.timestamps).toEqual([60_000, 120_000, 180_000]);
    const [a, b] = r.series;
    expect(a!.labels).toEqual({ job: "a" });
    expect(Array.from(a!.present)).toEqual([1, 0, 1]);
    expect([a!.values[0], a!.values[2]]).toEqual([1.5, Number.POSITIVE_INFINITY]);
    expect(Array.from(b!.present)).toEqual([0, 1, 0]);
    expect(b!.values[1]).toBeNaN();
  });

  it("passes Prometheus's own error on", async () => {
    nock(url)
      .post("/api/v1/query_range")
      .reply(400, { status: "error", errorType: "bad_data", error: 'parse error: unexpected "}"' });
    await expect(new PrometheusQuerier(url).queryRange("up}", 0, 1000, 1000)).rejects.toThrow(
      /bad_data.*parse error/,
    );
  });
});
