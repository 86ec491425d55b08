/**
 * The demo shop: who calls whom, how often, how fast and how reliably. Everything the generator emits is
 * derived from these tables; the availability figures are what the generator is told to produce over the
 * whole period (it hits them to the request, see plan.ts).
 */

export type Protocol = "http" | "grpc" | "messaging";
export type DbOperation = "SELECT" | "INSERT" | "UPDATE" | "DELETE";

export interface ServiceDef {
  name: string;
  kind: "browser" | "service" | "database" | "queue" | "external";
  version?: string;
  language?: string;
  host?: string;
  port?: number;
  /** Which signals the service itself emits. */
  signals: ("metrics" | "traces" | "logs" | "rum")[];
}

export type OpStep =
  | { call: string; propagate: boolean }
  | { db: DbOperation; table: string; query: string; medianMs: number }
  | { publish: string; consumer: string }
  | { external: string; method: string; path: string; medianMs: number };

export interface OpDef {
  /** Journey key as analysis builds it: service + method + route (gRPC: rpc service/method). */
  key: string;
  service: string;
  protocol: Protocol;
  /** HTTP method; for gRPC the rpc method; for messaging the operation. */
  method: string;
  /** http.route; for gRPC the rpc service; for messaging the destination. */
  route: string;
  /** Emits http_server_* series. */
  metrics: boolean;
  /** False: the tracing instrumentation does not know the route and reports only url.path. */
  routeInTraces: boolean;
  successStatus: number;
  clientErrorStatus?: number;
  clientErrorRate: number;
  /** good/total (good = not 5xx) over the whole period, as told to the generator. */
  availability: number;
  /** Share of the service's own server errors answered with 500 (the rest 503). */
  share500: number;
  selfMs: number;
  sigma: number;
  steps: OpStep[];
  /** Example raw path for a route template (ids filled in per request). */
  pathTemplate: string;
}

export interface EntryDef {
  id: string;
  client: "browser" | "mobile";
  op: string;
  /** Mean requests per second over the period. */
  ratePerSecond: number;
  /** Browser page the request belongs to (RUM page id). */
  page?: string;
}

export interface IncidentDef {
  id: string;
  kind: "availability" | "latency";
  op: string;
  description: string;
  /** Day of the period, as a fraction of the number of days. */
  dayFraction: number;
  startHourUtc: number;
  durationHours: number;
  /** availability: share of the op's whole-period error budget spent inside the incident. */
  budgetShare?: number;
  /** availability: latency of the failing requests (upstream timeouts). */
  errorMedianMs?: number;
  /** latency: multiplier on the op's own processing time at the peak. */
  slowdown?: number;
}

export const SERVICES: readonly ServiceDef[] = [
  { name: "web-browser", kind: "browser", version: "3.8.1", language: "webjs", signals: ["traces", "rum"] },
  {
    name: "frontend",
    kind: "service",
    version: "2.31.0",
    language: "nodejs",
    host: "frontend.shop.svc.cluster.local",
    port: 8080,
    signals: ["metrics", "traces", "logs"],
  },
  {
    name: "api-gateway",
    kind: "service",
    version: "1.12.4",
    language: "go",
    host: "api-gateway.shop.svc.cluster.local",
    port: 8081,
    signals: ["metrics", "traces", "logs"],
  },
  {
    name: "checkout",
    kind: "service",
    version: "3.4.2",
    language: "go",
    host: "checkout.shop.svc.cluster.local",
    port: 8082,
    signals: ["metrics", "traces", "logs"],
  },
  {
    name: "payment",
    kind: "service",
    version: "1.9.0",
    language: "nodejs",
    host: "payment.shop.svc.cluster.local",
    port: 8083,
    signals: ["metrics", "traces", "logs"],
  },
  {
    name: "inventory",
    kind: "service",
    version: "2.14.0",
    language: "java",
    host: "inventory.shop.svc.cluster.local",
    port: 8084,
    signals: ["metrics", "traces", "logs"],
  },
  {
    name: "cart",
    kind: "service",
    version: "1.6.3",
    language: "dotnet",
    host: "cart.shop.svc.cluster.local",
    port: 7070,
    signals: ["traces", "logs"],
  },
  { name: "fulfillment", kind: "service", version: "0.9.7", language: "python", signals: ["traces", "logs"] },
  { name: "notification", kind: "service", version: "1.2.0", language: "python", signals: ["logs"] },
  {
    name: "postgresql",
    kind: "database",
    host: "postgres.shop.svc.cluster.local",
    port: 5432,
    signals: [],
  },
  { name: "kafka", kind: "queue", host: "kafka.shop.svc.cluster.local", port: 9092, signals: [] },
  { name: "psp", kind: "external", host: "api.psp.example", port: 443, signals: [] },
];

const http = (
  service: string,
  method: string,
  route: string,
  o: Partial<OpDef> & Pick<OpDef, "availability" | "selfMs" | "steps">,
): OpDef => ({
  key: `${service} ${method} ${route}`,
  service,
  protocol: "http",
  method,
  route,
  metrics: true,
  routeInTraces: true,
  successStatus: method === "POST" ? 201 : 200,
  clientErrorRate: 0,
  share500: 0.7,
  sigma: 0.45,
  pathTemplate: route,
  ...o,
});

const grpc = (
  service: string,
  rpcService: string,
  rpcMethod: string,
  o: Pick<OpDef, "availability" | "selfMs" | "steps">,
): OpDef => ({
  key: `${service} ${rpcService}/${rpcMethod}`,
  service,
  protocol: "grpc",
  method: rpcMethod,
  route: rpcService,
  metrics: false,
  routeInTraces: true,
  successStatus: 200,
  clientErrorRate: 0,
  share500: 0.6,
  sigma: 0.4,
  pathTemplate: `/${rpcService}/${rpcMethod}`,
  ...o,
});

const CART_SVC = "oteldemo.CartService";

/** Listed callers before callees: plan.ts walks this order down for traffic and up for errors. */
export const OPS: readonly OpDef[] = [
  http("frontend", "GET", "/", {
    availability: 0.999,
    selfMs: 55,
    steps: [{ call: "api-gateway GET /api/products", propagate: true }],
  }),
  http("frontend", "GET", "/products/{id}", {
    availability: 0.9988,
    selfMs: 40,
    clientErrorStatus: 404,
    clientErrorRate: 0.015,
    pathTemplate: "/products/{id}",
    steps: [{ call: "api-gateway GET /api/products/{id}", propagate: true }],
  }),
  http("frontend", "GET", "/cart", {
    availability: 0.999,
    selfMs: 30,
    steps: [{ call: "api-gateway GET /api/cart", propagate: true }],
  }),
  http("frontend", "POST", "/api/cart/items", {
    availability: 0.9987,
    selfMs: 8,
    clientErrorStatus: 400,
    clientErrorRate: 0.01,
    steps: [{ call: "api-gateway POST /api/cart/items", propagate: true }],
  }),
  http("frontend", "POST", "/api/checkout", {
    availability: 0.9958,
    selfMs: 10,
    clientErrorStatus: 400,
    clientErrorRate: 0.01,
    steps: [{ call: "api-gateway POST /api/checkout", propagate: true }],
  }),
  http("api-gateway", "GET", "/api/products", {
    availability: 0.9992,
    selfMs: 3,
    sigma: 0.4,
    steps: [{ call: "inventory GET /products", propagate: true }],
  }),
  http("api-gateway", "GET", "/api/products/{id}", {
    availability: 0.9991,
    selfMs: 3,
    sigma: 0.4,
    clientErrorStatus: 404,
    clientErrorRate: 0.01,
    steps: [{ call: "inventory GET /products/{id}", propagate: true }],
  }),
  http("api-gateway", "GET", "/api/cart", {
    availability: 0.9992,
    selfMs: 3,
    sigma: 0.4,
    steps: [{ call: `cart ${CART_SVC}/GetCart`, propagate: true }],
  }),
  http("api-gateway", "POST", "/api/cart/items", {
    availability: 0.999,
    selfMs: 3,
    sigma: 0.4,
    clientErrorStatus: 400,
    clientErrorRate: 0.008,
    steps: [{ call: `cart ${CART_SVC}/AddItem`, propagate: true }],
  }),
  http("api-gateway", "POST", "/api/checkout", {
    availability: 0.9962,
    selfMs: 4,
    sigma: 0.4,
    clientErrorStatus: 400,
    clientErrorRate: 0.005,
    steps: [{ call: "checkout POST /checkout", propagate: true }],
  }),
  http("checkout", "POST", "/checkout", {
    availability: 0.9965,
    selfMs: 30,
    sigma: 0.4,
    clientErrorStatus: 400,
    clientErrorRate: 0.03,
    steps: [
      { call: `cart ${CART_SVC}/GetCart`, propagate: true },
      { call: "inventory POST /stock/reserve", propagate: true },
      { call: "payment POST /v1/charges", propagate: true },
      {
        db: "INSERT",
        table: "orders",
        query:
          "INSERT INTO orders (id, customer_id, total_cents, currency, status) VALUES ($1, $2, $3, $4, 'placed')",
        medianMs: 4,
      },
      { publish: "order-events", consumer: "fulfillment process order-events" },
      { call: `cart ${CART_SVC}/EmptyCart`, propagate: false },
    ],
  }),
  http("payment", "POST", "/v1/charges", {
    availability: 0.998,
    selfMs: 20,
    clientErrorStatus: 400,
    clientErrorRate: 0.04,
    steps: [
      {
        db: "SELECT",
        table: "payment_methods",
        query: "SELECT id, token, brand, last4 FROM payment_methods WHERE customer_id = $1 AND is_default",
        medianMs: 2,
      },
      { external: "psp", method: "POST", path: "/v2/charges", medianMs: 170 },
      {
        db: "INSERT",
        table: "charges",
        query:
          "INSERT INTO charges (id, order_id, amount_cents, psp_reference, status) VALUES ($1, $2, $3, $4, $5)",
        medianMs: 3,
      },
    ],
  }),
  http("inventory", "GET", "/products", {
    availability: 0.9995,
    selfMs: 15,
    sigma: 0.4,
    steps: [
      {
        db: "SELECT",
        table: "products",
        query: "SELECT id, name, price_cents, stock FROM products ORDER BY popularity DESC LIMIT $1",
        medianMs: 5,
      },
    ],
  }),
  http("inventory", "GET", "/products/{id}", {
    availability: 0.9994,
    selfMs: 5,
    sigma: 0.4,
    clientErrorStatus: 404,
    clientErrorRate: 0.01,
    routeInTraces: false,
    steps: [
      {
        db: "SELECT",
        table: "products",
        query: "SELECT id, name, description, price_cents, stock FROM products WHERE id = $1",
        medianMs: 2,
      },
    ],
  }),
  http("inventory", "POST", "/stock/reserve", {
    availability: 0.9993,
    selfMs: 9,
    sigma: 0.4,
    successStatus: 200,
    steps: [
      {
        db: "UPDATE",
        table: "stock",
        query: "UPDATE stock SET reserved = reserved + $1 WHERE sku = $2 AND available - reserved >= $1",
        medianMs: 3,
      },
    ],
  }),
  grpc("cart", CART_SVC, "GetCart", {
    availability: 0.9995,
    selfMs: 3,
    steps: [
      {
        db: "SELECT",
        table: "cart_items",
        query: "SELECT sku, quantity FROM cart_items WHERE cart_id = $1",
        medianMs: 1.5,
      },
    ],
  }),
  grpc("cart", CART_SVC, "AddItem", {
    availability: 0.9993,
    selfMs: 4,
    steps: [
      {
        db: "INSERT",
        table: "cart_items",
        query:
          "INSERT INTO cart_items (cart_id, sku, quantity) VALUES ($1, $2, $3) ON CONFLICT (cart_id, sku) DO UPDATE SET quantity = cart_items.quantity + EXCLUDED.quantity",
        medianMs: 2,
      },
    ],
  }),
  grpc("cart", CART_SVC, "EmptyCart", {
    availability: 0.9995,
    selfMs: 2,
    steps: [
      { db: "DELETE", table: "cart_items", query: "DELETE FROM cart_items WHERE cart_id = $1", medianMs: 1 },
    ],
  }),
  {
    key: "fulfillment process order-events",
    service: "fulfillment",
    protocol: "messaging",
    method: "process",
    route: "order-events",
    metrics: false,
    routeInTraces: true,
    successStatus: 200,
    clientErrorRate: 0,
    availability: 0.9995,
    share500: 1,
    selfMs: 35,
    sigma: 0.5,
    pathTemplate: "order-events",
    steps: [
      {
        db: "UPDATE",
        table: "orders",
        query: "UPDATE orders SET status = 'fulfilling', updated_at = now() WHERE id = $1",
        medianMs: 3,
      },
    ],
  },
];

export const ENTRIES: readonly EntryDef[] = [
  { id: "browser GET /", client: "browser", op: "frontend GET /", ratePerSecond: 1.8, page: "/" },
  {
    id: "browser GET /products/{id}",
    client: "browser",
    op: "frontend GET /products/{id}",
    ratePerSecond: 3.5,
    page: "/products/{id}",
  },
  { id: "browser GET /cart", client: "browser", op: "frontend GET /cart", ratePerSecond: 0.9, page: "/cart" },
  {
    id: "browser POST /api/cart/items",
    client: "browser",
    op: "frontend POST /api/cart/items",
    ratePerSecond: 0.55,
    page: "/products/{id}",
  },
  {
    id: "browser POST /api/checkout",
    client: "browser",
    op: "frontend POST /api/checkout",
    ratePerSecond: 0.3,
    page: "/checkout",
  },
  {
    id: "mobile GET /api/products/{id}",
    client: "mobile",
    op: "api-gateway GET /api/products/{id}",
    ratePerSecond: 1.2,
  },
  {
    id: "mobile POST /api/cart/items",
    client: "mobile",
    op: "api-gateway POST /api/cart/items",
    ratePerSecond: 0.25,
  },
  {
    id: "mobile POST /api/checkout",
    client: "mobile",
    op: "api-gateway POST /api/checkout",
    ratePerSecond: 0.12,
  },
];

export const INCIDENTS: readonly IncidentDef[] = [
  {
    id: "payment-psp-outage",
    kind: "availability",
    op: "payment POST /v1/charges",
    description:
      "The payment service provider answers 503 and times out; payment returns 503, so checkout's POST /checkout fails",
    dayFraction: 0.62,
    startHourUtc: 13.5,
    durationHours: 2.5,
    budgetShare: 0.6,
    errorMedianMs: 2800,
  },
  {
    id: "inventory-slow-reserve",
    kind: "latency",
    op: "inventory POST /stock/reserve",
    description:
      "Lock contention on the stock table after a migration makes POST /stock/reserve slow until it is fixed",
    dayFraction: 0.3,
    startHourUtc: 7,
    durationHours: 30,
    slowdown: 45,
  },
];

/** One counter reset (a restart after a deploy) so readers must use reset-aware increase(). */
export const COUNTER_RESET = {
  service: "inventory",
  dayFraction: 0.45,
  hourUtc: 10.25,
  newVersion: "2.14.1",
};

/** OpenTelemetry's advised http.server.request.duration buckets (seconds), as Prometheus `le` bounds. */
export const DURATION_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
];

export const WEB_PAGES = [
  { page: "/", frontendOp: "frontend GET /", weight: 1 },
  { page: "/products/{id}", frontendOp: "frontend GET /products/{id}", weight: 1.6 },
  { page: "/cart", frontendOp: "frontend GET /cart", weight: 0.55 },
  { page: "/checkout", frontendOp: undefined, weight: 0.3 },
] as const;

export const SHOP_HOST = "shop.example.com";

export function opByKey(key: string): OpDef {
  const op = OPS.find((o) => o.key === key);
  if (!op) throw new Error(`demo topology: unknown operation ${key}`);
  return op;
}

export function serviceByName(name: string): ServiceDef {
  const s = SERVICES.find((x) => x.name === name);
  if (!s) throw new Error(`demo topology: unknown service ${name}`);
  return s;
}

export interface TopologyEdge {
  from: string;
  to: string;
  /** Operation on the callee: route, rpc method, db operation or queue destination. */
  operation: string;
  protocol: "http" | "grpc" | "postgresql" | "kafka" | "https";
  fromOp?: string;
  toOp?: string;
}

export interface Topology {
  services: readonly ServiceDef[];
  operations: readonly OpDef[];
  entries: readonly EntryDef[];
  edges: TopologyEdge[];
}

export function buildTopology(): Topology {
  const edges: TopologyEdge[] = [];
  const seen = new Set<string>();
  const add = (e: TopologyEdge) => {
    const k = `${e.from}|${e.to}|${e.operation}|${e.fromOp ?? ""}`;
    if (!seen.has(k)) {
      seen.add(k);
      edges.push(e);
    }
  };
  for (const entry of ENTRIES) {
    if (entry.client !== "browser") continue;
    const op = opByKey(entry.op);
    add({
      from: "web-browser",
      to: op.service,
      operation: `${op.method} ${op.route}`,
      protocol: "http",
      toOp: op.key,
    });
  }
  for (const op of OPS) {
    for (const step of op.steps) {
      if ("call" in step) {
        const callee = opByKey(step.call);
        add({
          from: op.service,
          to: callee.service,
          operation:
            callee.protocol === "grpc"
              ? `${callee.route}/${callee.method}`
              : `${callee.method} ${callee.route}`,
          protocol: callee.protocol === "grpc" ? "grpc" : "http",
          fromOp: op.key,
          toOp: callee.key,
        });
      } else if ("db" in step) {
        add({
          from: op.service,
          to: "postgresql",
          operation: `${step.db} ${step.table}`,
          protocol: "postgresql",
          fromOp: op.key,
        });
      } else if ("publish" in step) {
        add({
          from: op.service,
          to: "kafka",
          operation: `send ${step.publish}`,
          protocol: "kafka",
          fromOp: op.key,
        });
        const consumer = opByKey(step.consumer);
        add({
          from: "kafka",
          to: consumer.service,
          operation: `process ${step.publish}`,
          protocol: "kafka",
          toOp: consumer.key,
        });
      } else {
        add({
          from: op.service,
          to: step.external,
          operation: `${step.method} ${step.path}`,
          protocol: "https",
          fromOp: op.key,
        });
      }
    }
  }
  return { services: SERVICES, operations: OPS, entries: ENTRIES, edges };
}
