import { randomBytes } from "node:crypto";

/**
 * OTLP/JSON trace requests as an SDK sends them: each trace is one SERVER span of `service` for
 * `POST /orders` (a journey entry), started at `time` (epoch ms).
 */
export function otlpTraceRequest(service: string, times: number[]): string {
  const spans = times.map((time) => ({
    traceId: randomBytes(16).toString("hex"),
    spanId: randomBytes(8).toString("hex"),
    name: "POST /orders",
    kind: 2,
    startTimeUnixNano: `${BigInt(time) * 1_000_000n}`,
    endTimeUnixNano: `${BigInt(time + 25) * 1_000_000n}`,
    attributes: [
      { key: "http.request.method", value: { stringValue: "POST" } },
      { key: "http.route", value: { stringValue: "/orders" } },
      { key: "http.response.status_code", value: { intValue: "200" } },
    ],
    status: {},
  }));
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: "service.name", value: { stringValue: service } }] },
        scopeSpans: [{ scope: { name: "test" }, spans }],
      },
    ],
  });
}

/** Posts one request to `/v1/traces`; returns the status and the parsed body. */
export async function postTraces(baseUrl: string, body: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${baseUrl}/v1/traces`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
  });
  return { status: res.status, body: await res.json() };
}
