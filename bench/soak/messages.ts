/**
 * The text of the soak's log lines: a handful of templates with variable parts (ids, durations, amounts)
 * and some PII (e-mail addresses, IPs) the pipeline must redact, so the stream stage mines and redacts
 * as it would on an application's logs.
 */

const REGIONS = ["eu-west-1", "us-east-1", "ap-south-1"];
const ROUTES = ["/api/orders", "/api/cart", "/api/payments", "/api/users"];

export interface Line {
  severity: "INFO" | "WARN" | "ERROR" | "DEBUG";
  text: string;
}

export function logLine(n: number): Line {
  const id = 100000 + ((n * 7919) % 900000);
  const ms = (n * 37) % 900;
  switch (n % 10) {
    case 0:
    case 1:
    case 2:
      return {
        severity: "INFO",
        text: `GET ${ROUTES[n % ROUTES.length]}/${id} 200 ${ms}ms region=${REGIONS[n % REGIONS.length]}`,
      };
    case 3:
      return {
        severity: "INFO",
        text: `payment authorized order=${id} amount=${(id % 500) + 0.99} EUR in ${ms}ms`,
      };
    case 4:
      return { severity: "DEBUG", text: `cache miss key=cart:${id} ttl=300` };
    case 5:
      return {
        severity: "INFO",
        text: `user user${id % 5000}@example.com logged in from 10.${n % 250}.${id % 250}.${ms % 250}`,
      };
    case 6:
      return {
        severity: "WARN",
        text: `slow query took ${ms + 1000}ms: SELECT * FROM orders WHERE id = ${id}`,
      };
    case 7:
      return { severity: "INFO", text: `POST /api/orders 201 ${ms}ms items=${(n % 9) + 1}` };
    case 8:
      return { severity: "INFO", text: `inventory reserved sku=SKU-${id % 2000} qty=${(n % 4) + 1}` };
    default:
      return n % 100 === 9
        ? { severity: "ERROR", text: `upstream timeout after ${ms + 5000}ms calling payment-provider` }
        : { severity: "INFO", text: `GET /health 200 ${ms % 5}ms` };
  }
}
