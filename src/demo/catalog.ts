/** Words the shop's telemetry is made of: user agents and the exceptions each service throws. */

export interface ExceptionDef {
  type: string;
  message: string;
}

export const BROWSER_AGENTS = [
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
  "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
  "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36",
  "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
] as const;

export const BROWSER_INFO = [
  { name: "Chrome", version: "130.0", os: "Windows 10", mobile: false },
  { name: "Safari", version: "18.1", os: "macOS 10.15.7", mobile: false },
  { name: "Mobile Safari", version: "18.1", os: "iOS 18.1", mobile: true },
  { name: "Chrome Mobile", version: "130.0", os: "Android 14", mobile: true },
  { name: "Firefox", version: "132.0", os: "Linux x86_64", mobile: false },
] as const;

export const MOBILE_AGENTS = [
  "ShopApp/4.12.0 (iPhone15,2; iOS 18.1; Scale/3.00)",
  "ShopApp/4.12.0 (Linux; Android 14; SM-S911B)",
  "ShopApp/4.11.3 (iPhone13,2; iOS 17.6.1; Scale/3.00)",
] as const;

/** The service's own failures (not caused by a callee). */
export const OWN_EXCEPTIONS: Record<string, readonly ExceptionDef[]> = {
  frontend: [
    { type: "Error", message: "getaddrinfo EAI_AGAIN api-gateway.shop.svc.cluster.local" },
    { type: "TypeError", message: "Cannot read properties of undefined (reading 'items')" },
  ],
  "api-gateway": [
    {
      type: "*url.Error",
      message: "context deadline exceeded (Client.Timeout exceeded while awaiting headers)",
    },
    { type: "*net.OpError", message: "dial tcp: connect: connection refused" },
  ],
  checkout: [
    { type: "*pq.Error", message: "pq: deadlock detected" },
    { type: "*errors.errorString", message: "order validation failed: total does not match cart" },
  ],
  payment: [
    { type: "SequelizeConnectionError", message: "Connection terminated unexpectedly" },
    { type: "IdempotencyError", message: "Idempotency key already used with different parameters" },
  ],
  inventory: [
    {
      type: "org.postgresql.util.PSQLException",
      message: "ERROR: canceling statement due to statement timeout",
    },
    {
      type: "java.sql.SQLTransientConnectionException",
      message: "HikariPool-1 - Connection is not available, request timed out after 30000ms.",
    },
  ],
  cart: [
    { type: "Npgsql.NpgsqlException", message: "Exception while reading from stream" },
    { type: "System.TimeoutException", message: "The operation has timed out." },
  ],
  fulfillment: [
    { type: "psycopg.OperationalError", message: "server closed the connection unexpectedly" },
    { type: "KeyError", message: "'shipping_address'" },
  ],
};

export const INCIDENT_EXCEPTION: ExceptionDef = {
  type: "PaymentProviderError",
  message:
    "PSP responded 503 Service Unavailable (upstream connect error or disconnect/reset before headers)",
};

/** What checkout records when payment fails under it. */
export const PAYMENT_FAILED_EXCEPTION: ExceptionDef = {
  type: "*checkout.PaymentError",
  message: "charge failed: payment service returned 503",
};

export const GRPC_STATUS = { OK: 0, INTERNAL: 13, UNAVAILABLE: 14 } as const;
