import { existsSync, readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { parseDuration } from "./core/duration.js";

/**
 * One typed config from environment variables and an optional `slo-scout.yml` (keys spelled as the env
 * vars). The environment wins over the file so a deployment can override a checked-in file.
 */

function urlWithScheme(schemes: string[], example: string) {
  return z.string().refine(
    (v) => {
      try {
        return schemes.includes(new URL(v).protocol.replace(/:$/, ""));
      } catch {
        return false;
      }
    },
    { message: `must be a URL with scheme ${schemes.map((s) => `${s}://`).join(" or ")} (e.g. ${example})` },
  );
}

const port = (example: string) =>
  z.coerce
    .number({ message: `must be a port number (e.g. ${example})` })
    .int({ message: `must be a whole port number (e.g. ${example})` })
    .min(0, { message: `must be 0..65535 (e.g. ${example})` })
    .max(65535, { message: `must be 0..65535 (e.g. ${example})` });

const positiveInt = (example: string) =>
  z.coerce
    .number({ message: `must be a number (e.g. ${example})` })
    .int({ message: `must be a whole number (e.g. ${example})` })
    .positive({ message: `must be positive (e.g. ${example})` });

const bool = z
  .enum(["true", "false", "1", "0"], { message: "must be true or false (e.g. true)" })
  .transform((v) => v === "true" || v === "1");

/** A Prometheus duration (`30s`, `5m`, `1d`), read as milliseconds. */
const duration = (example: string) =>
  z
    .string()
    .refine((v) => parseDuration(v) !== undefined, { message: `must be a duration like ${example}` })
    .transform((v) => parseDuration(v)!);

const list = z.string().transform((v) =>
  v
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean),
);

/**
 * What one `slo-scout serve` process runs: the telemetry receivers, the REST API with the console and the
 * bots (and the analyses they queue), the pipeline worker (the stream stage consuming the bus).
 */
export const SERVER_ROLES = ["receivers", "api", "worker"] as const;
export type ServerRole = (typeof SERVER_ROLES)[number];

const roles = list.pipe(
  z
    .array(
      z.enum(SERVER_ROLES, {
        message: `must be a comma-separated list of ${SERVER_ROLES.join(", ")} (e.g. receivers,api)`,
      }),
    )
    .min(1, { message: `must name at least one of ${SERVER_ROLES.join(", ")} (e.g. worker)` })
    .transform((v) => [...new Set(v)]),
);

const ConfigKeys = z.object({
  DATABASE_URL: urlWithScheme(["pglite", "postgres", "postgresql"], "pglite://./.slo-scout/db").default(
    "pglite://./.slo-scout/db",
  ),
  REDIS_URL: urlWithScheme(["redis", "rediss"], "redis://127.0.0.1:6379").optional(),
  KAFKA_BROKERS: z
    .string()
    .regex(/^[^\s,:]+:\d+(,[^\s,:]+:\d+)*$/, {
      message: "must be host:port[,host:port…] (e.g. localhost:9092)",
    })
    .transform((v) => v.split(","))
    .optional(),
  KAFKA_CLIENT_ID: z.string().default("slo-scout"),
  BLOB_URL: urlWithScheme(["file", "s3"], "file://./.slo-scout/blobs").default("file://./.slo-scout/blobs"),
  S3_ENDPOINT: urlWithScheme(["http", "https"], "http://127.0.0.1:9000").optional(),
  S3_REGION: z.string().default("us-east-1"),
  S3_FORCE_PATH_STYLE: bool.default(false),
  VECTOR_URL: urlWithScheme(["pgvector", "milvus"], "milvus://localhost:19530").default("pgvector://"),
  PROMETHEUS_URL: urlWithScheme(["http", "https"], "http://localhost:9090").optional(),
  /** How history is read from PROMETHEUS_URL: remote_read where the server serves it, else query_range. */
  PROMETHEUS_READ: z
    .enum(["auto", "remote-read", "query-range"], {
      message: "must be auto, remote-read or query-range (e.g. auto)",
    })
    .default("auto"),
  /** Where `slo-scout export-derived` writes the derived log and RUM series (a remote_write 1.0 endpoint). */
  REMOTE_WRITE_URL: urlWithScheme(["http", "https"], "http://localhost:9090/api/v1/write").optional(),
  HOST: z.string().default("0.0.0.0"),
  PORT: port("3000").default(3000),
  OTLP_GRPC_PORT: port("4317").default(4317),
  LOG_LEVEL: z
    .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"], {
      message: "must be one of fatal, error, warn, info, debug, trace, silent (e.g. info)",
    })
    .default("info"),
  /** The local git repository approved changes are committed to (created on first use). */
  SLO_SCOUT_REPO: z
    .string()
    .min(1, { message: "must be a directory path (e.g. ./slo-scout-repo)" })
    .default("./slo-scout-repo"),
  /** Where the embedded database and blobs live when DATABASE_URL / BLOB_URL are not set. */
  DATA_DIR: z.string().default("./.slo-scout"),
  /**
   * `auto`: the first start on an empty embedded database (DATABASE_URL not set) loads the demo shop and
   * walks the main job on it; `off`: never.
   */
  SLO_SCOUT_DEMO: z
    .enum(["auto", "off"], {
      message:
        "must be auto (the first start on an empty embedded database runs the demo) or off (never; e.g. off)",
    })
    .default("auto"),
  /** Largest accepted request body after decompression. */
  MAX_BODY_BYTES: positiveInt("20971520").default(20 * 1024 * 1024),
  /** Browser origins allowed to call the receivers and the REST API (comma-separated, `*` for any). */
  CORS_ORIGINS: list.default([]),
  /** HS256 key the API's bearer tokens are signed with. */
  JWT_SECRET: z
    .string()
    .min(32, { message: "must be at least 32 characters (e.g. the output of openssl rand -hex 32)" })
    .optional(),
  /** A JSON Web Key Set (RS256/ES256 keys) the API's bearer tokens are checked against; wins over JWT_SECRET. */
  JWT_JWKS_URL: urlWithScheme(
    ["http", "https"],
    "https://login.example.com/.well-known/jwks.json",
  ).optional(),
  JWT_AUDIENCE: z.string().optional(),
  JWT_ISSUER: z.string().optional(),
  /** A running SLO-Scout server the CLI talks to instead of opening the database. */
  SLO_SCOUT_URL: urlWithScheme(["http", "https"], "http://127.0.0.1:3000").optional(),
  /** The bearer token the CLI sends to that server's API. */
  SLO_SCOUT_TOKEN: z.string().optional(),
  /** Bearer token the telemetry receivers require when set. */
  INGEST_TOKEN: z
    .string()
    .min(16, { message: "must be at least 16 characters (e.g. the output of openssl rand -hex 32)" })
    .optional(),
  RATE_LIMIT_PER_MINUTE: positiveInt("6000").optional(),
  INGEST_BUFFER_EVENTS: positiveInt("100000").default(100_000),
  /**
   * Kafka only: messages the pipeline's workers may be behind on raw-telemetry before the receivers answer
   * 503 + Retry-After; a healthy worker is a few fetches (tens of thousands of messages) behind.
   */
  INGEST_MAX_BACKLOG: positiveInt("1000000").default(1_000_000),
  /** Fluent Bit record key (dotted path) naming the service; falls back to kubernetes.labels.app. */
  FLUENTBIT_SERVICE_KEY: z
    .string()
    .regex(/^[^.\s]+(\.[^.\s]+)*$/, {
      message: "must be a record key or dotted path (e.g. service or kubernetes.labels.app)",
    })
    .default("service"),
  ALLOWED_LATENESS: z
    .string()
    .regex(/^\d+[smh]$/, { message: "must be a duration like 10m" })
    .default("10m"),
  /** How far ahead of the server's clock an event may be dated; later spans, logs and RUM events are refused. */
  FUTURE_TOLERANCE: duration("5m").default(5 * 60_000),
  /**
   * In-process bus only: receivers' accepted batches are appended to a write-ahead spool in
   * <DATA_DIR>/spool and fsync'd before the 2xx, so a SIGKILL loses nothing acknowledged.
   */
  INGEST_SPOOL: z
    .enum(["on", "off"], { message: "must be on or off (e.g. off)" })
    .transform((v) => v === "on")
    .default(true),
  /** How long a graceful stop may take (requests, bus, pipeline drain, stores) before the process exits 1. */
  SHUTDOWN_TIMEOUT: duration("30s").default(30_000),
  /**
   * How long after its window closed a late event still corrects it (added to the stored window);
   * later ones are dropped, counted per service and reported by analyze.
   */
  CORRECTION_HORIZON: duration("24h").default(24 * 3_600_000),
  REDACT_EXTRA_PATTERNS: list.default([]),
  EMBEDDINGS_URL: urlWithScheme(["http", "https", "onnx", "hash"], "http://localhost:8080/v1").default(
    "hash://",
  ),
  EMBEDDINGS_MODEL: z.string().default("text-embedding-3-small"),
  OPENAI_BASE_URL: urlWithScheme(["http", "https"], "https://api.openai.com/v1").optional(),
  OPENAI_API_KEY: z.string().optional(),
  LLM_MODEL: z.string().default("gpt-4o-mini"),
  LLM_TIMEOUT_MS: positiveInt("20000").default(20_000),
  /** The GitHub App (issue comments, approvals into pull requests, spec reviews): its id and private key. */
  APP_ID: z.coerce
    .number({ message: "must be the GitHub App's numeric id (e.g. 123456)" })
    .int({ message: "must be the GitHub App's numeric id (e.g. 123456)" })
    .positive({ message: "must be the GitHub App's numeric id (e.g. 123456)" })
    .optional(),
  /** The App's private key (PEM; `\n` escapes and base64 also accepted); PRIVATE_KEY_PATH names a .pem file instead. */
  PRIVATE_KEY: z.string().min(1).optional(),
  PRIVATE_KEY_PATH: z.string().min(1).optional(),
  /** The secret GitHub signs webhook deliveries with (X-Hub-Signature-256). */
  WEBHOOK_SECRET: z.string().min(1).optional(),
  /** GitHub Enterprise Server: its host name and protocol; github.com when unset. */
  GHE_HOST: z
    .string()
    .regex(/^[A-Za-z0-9.-]+(:\d+)?$/, { message: "must be a host name (e.g. github.example.com)" })
    .optional(),
  GHE_PROTOCOL: z.enum(["https", "http"], { message: "must be https or http (e.g. https)" }).default("https"),
  /** With no APP_ID: serve Probot's GitHub App manifest flow at /probot to create the App from the browser. */
  GITHUB_SETUP: bool.default(false),
  /** GitLab (gitlab.com or self-hosted): the API's base URL, a token for it and the webhook secret. */
  GITLAB_HOST: urlWithScheme(["http", "https"], "https://gitlab.example.com").default("https://gitlab.com"),
  GITLAB_TOKEN: z.string().min(1).optional(),
  GITLAB_WEBHOOK_SECRET: z.string().min(1).optional(),
  /** A GitLab project (id or group/project) that approvals from the CLI, Slack and the API go to. */
  GITLAB_PROJECT: z
    .string()
    .regex(/^(\d+|\w[\w.-]*(\/\w[\w.-]*)+)$/, { message: "must be a project id or path (e.g. acme/shop)" })
    .optional(),
  /** Slack: the bot token turns the Slack app on; HTTP mode needs the signing secret, Socket Mode the app token. */
  SLACK_BOT_TOKEN: z
    .string()
    .regex(/^xox[bp]-/, { message: "must be a bot token (e.g. xoxb-1234-…)" })
    .optional(),
  SLACK_SIGNING_SECRET: z
    .string()
    .min(8, { message: "must be the app's signing secret (Basic Information)" })
    .optional(),
  SLACK_APP_TOKEN: z
    .string()
    .regex(/^xapp-/, { message: "must be an app-level token (e.g. xapp-1-…)" })
    .optional(),
  SLACK_API_URL: urlWithScheme(["http", "https"], "https://slack.com/api/").default("https://slack.com/api/"),
  /**
   * Where approvals from Slack open their change: `gitlab:<project>`, `github:<owner>/<repo>` or a local
   * repository's path; the default git host (GITLAB_PROJECT or SLO_SCOUT_REPO) when unset.
   */
  SLO_SCOUT_SLACK_REPO: z
    .string()
    .regex(/^(gitlab:(\d+|\w[\w.-]*(\/\w[\w.-]*)+)|github:[\w.-]+\/[\w.-]+|[^:]+)$/, {
      message:
        "must be gitlab:<group/project>, github:<owner>/<repo> or a directory path (e.g. gitlab:acme/shop)",
    })
    .optional(),
  /** What this process runs (see SERVER_ROLES); all three by default. */
  SLO_SCOUT_ROLES: roles.default([...SERVER_ROLES]),
});

/**
 * Role sets that only make sense next to other processes need backends those processes share: the
 * in-process bus and the embedded database are private to one process.
 */
function checkRoles(config: z.infer<typeof ConfigKeys>, ctx: z.RefinementCtx): void {
  const has = (r: ServerRole) => config.SLO_SCOUT_ROLES.includes(r);
  const problem = (message: string) =>
    ctx.addIssue({ code: "custom", path: ["SLO_SCOUT_ROLES"], input: config.SLO_SCOUT_ROLES, message });
  if (has("receivers") !== has("worker") && !config.KAFKA_BROKERS) {
    problem(
      has("worker")
        ? "a worker without the receivers needs KAFKA_BROKERS: the in-process bus only carries what this process's own receivers accept"
        : "receivers without the worker need KAFKA_BROKERS: on the in-process bus nothing would consume what they accept",
    );
  } else if (has("api") !== has("worker") && config.DATABASE_URL.startsWith("pglite:")) {
    problem(
      "the api and the worker in separate processes need a shared database: set DATABASE_URL to postgres://… (the embedded PGlite is private to one process)",
    );
  }
}

export const ConfigSchema = ConfigKeys.superRefine(checkRoles);

export type Config = z.infer<typeof ConfigSchema>;

export class ConfigError extends Error {
  override name = "ConfigError";
}

const dataDirUrlPath = (dataDir: string) => encodeURI(dataDir.replace(/\/+$/, ""));

/** The database DATABASE_URL defaults to: PGlite in DATA_DIR. */
export function embeddedDatabaseUrl(dataDir: string): string {
  return `pglite://${dataDirUrlPath(dataDir)}/db`;
}

/**
 * True when the database is the embedded default rather than one the configuration names (DATABASE_URL
 * set to anything else), which SLO-Scout must never fill with demo data.
 */
export function usesEmbeddedDatabase(config: Pick<Config, "DATABASE_URL" | "DATA_DIR">): boolean {
  return config.DATABASE_URL === embeddedDatabaseUrl(config.DATA_DIR);
}

/** Reads the config; throws a ConfigError whose message is one line naming the key and the fix. */
export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  file = env.SLO_SCOUT_CONFIG ?? "slo-scout.yml",
): Config {
  let fromFile: Record<string, unknown> = {};
  if (existsSync(file)) {
    let parsed: unknown;
    try {
      parsed = parseYaml(readFileSync(file, "utf8"));
    } catch (err) {
      throw new ConfigError(`${file}: not valid YAML (${(err as Error).message.split("\n")[0]})`);
    }
    if (parsed != null && (typeof parsed !== "object" || Array.isArray(parsed))) {
      throw new ConfigError(`${file}: must be a mapping of KEY: value (e.g. PORT: 3000)`);
    }
    fromFile = Object.fromEntries(Object.entries(parsed ?? {}).map(([k, v]) => [k, String(v)]));
    for (const key of Object.keys(fromFile)) {
      if (!(key in ConfigSchema.shape)) {
        throw new ConfigError(
          `${file}: unknown key ${key}; known keys: ${Object.keys(ConfigSchema.shape).join(", ")}`,
        );
      }
    }
  }
  const input: Record<string, unknown> = { ...fromFile };
  for (const key of Object.keys(ConfigSchema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== "") input[key] = value;
  }
  // DATA_DIR places the embedded stores, unless their own URLs say otherwise.
  if (typeof input.DATA_DIR === "string" && input.DATA_DIR !== "") {
    input.DATABASE_URL ??= embeddedDatabaseUrl(input.DATA_DIR);
    input.BLOB_URL ??= `file://${dataDirUrlPath(input.DATA_DIR)}/blobs`;
  }
  const result = ConfigSchema.safeParse(input);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const key = String(issue.path[0] ?? "config");
    const shown = input[key] === undefined ? "" : ` ${JSON.stringify(input[key])}`;
    throw new ConfigError(`config error: ${key}${shown} ${issue.message}`);
  }
  return result.data;
}
