import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ConfigSchema, loadConfig, SERVER_ROLES } from "../../src/config.js";

/**
 * What the schemas cannot say about deploy/compose.yml and the Helm chart (those are checked against the
 * Compose Specification and the Kubernetes schemas by scripts/deploy-checks.sh in .ci/run): every
 * SLO-Scout setting they pass is a real config key and the resulting config loads, images are pinned,
 * services have healthchecks and SLO-Scout waits for them, the roles are split 2 + 2, and no secret is
 * written inline.
 */

const read = (path: string) => readFileSync(new URL(`../../deploy/${path}`, import.meta.url), "utf8");
const envFile = (text: string) =>
  Object.fromEntries(
    text
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith("#"))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  ) as Record<string, string>;

interface Service {
  image: string;
  build?: unknown;
  environment?: Record<string, string>;
  env_file?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  command?: string[];
}
const compose = parse(read("compose.yml"), { merge: true }) as { services: Record<string, Service> };
const services = Object.entries(compose.services);
const sloScout = services.filter(([, s]) => s.image.startsWith("slo-scout:"));
const configKeys = new Set(Object.keys(ConfigSchema.shape));
const nonSecret = envFile(read("compose/slo-scout.env"));
const secrets = envFile(read("secrets.env.example"));
/** Keys of secrets.env that other containers (Postgres, MinIO, Milvus, Grafana) or the AWS SDK read. */
const FOR_OTHERS = /^(POSTGRES_|MINIO_|GF_|AWS_)/;

describe("deploy/compose.yml", () => {
  it("runs SLO-Scout as 2 receivers + API and 2 pipeline workers of the one image", () => {
    const roles = sloScout.map(([, s]) => s.environment?.SLO_SCOUT_ROLES).sort();
    expect(roles).toEqual(["receivers,api", "receivers,api", "worker", "worker"]);
    for (const [, s] of sloScout) expect(s.build).toEqual({ context: "..", dockerfile: "Dockerfile" });
  });

  it("passes SLO-Scout only real config keys, and each role's config loads", () => {
    for (const key of Object.keys(nonSecret)) expect(configKeys, key).toContain(key);
    for (const key of Object.keys(secrets).filter((k) => !FOR_OTHERS.test(k)))
      expect(configKeys, key).toContain(key);
    for (const [name, s] of sloScout) {
      expect(s.env_file).toEqual(["compose/slo-scout.env", "secrets.env"]);
      for (const key of Object.keys(s.environment ?? {}))
        expect(configKeys, `${name}: ${key}`).toContain(key);
      const config = loadConfig({ ...nonSecret, ...secrets, ...s.environment }, "/nonexistent/slo-scout.yml");
      expect(config.KAFKA_BROKERS).toEqual(["kafka:9092"]);
      expect(config.DATABASE_URL).toMatch(/^postgres:\/\/[^@]+@postgres:5432\//);
    }
  });

  it("names the other services by the hosts SLO-Scout's settings point at", () => {
    for (const url of [
      nonSecret.REDIS_URL,
      nonSecret.S3_ENDPOINT,
      nonSecret.PROMETHEUS_URL,
      secrets.DATABASE_URL,
    ])
      expect(Object.keys(compose.services)).toContain(new URL(url!).hostname);
    expect(Object.keys(compose.services)).toContain(nonSecret.KAFKA_BROKERS!.split(":")[0]);
    expect(Object.keys(compose.services)).toContain(new URL(nonSecret.VECTOR_URL!).hostname);
  });

  it("pins every image to a tag other than latest", () => {
    for (const [name, s] of services) expect(s.image, name).toMatch(/^[\w./-]+:(?!latest$)[\w.-]+$/);
  });

  it("gives every long-running service a healthcheck, and SLO-Scout waits for them", () => {
    const oneShot = services.filter(([, s]) => s.depends_on && !s.healthcheck).map(([n]) => n);
    expect(oneShot).toEqual(["minio-init"]);
    for (const [name, s] of services.filter(([n]) => n !== "minio-init"))
      expect(s.healthcheck?.test[0], name).toBe("CMD");
    for (const [name, s] of sloScout) {
      expect(s.healthcheck?.test.join(" "), name).toContain("/ready");
      for (const [dep, { condition }] of Object.entries(s.depends_on ?? {}))
        expect(condition, `${name} → ${dep}`).toBe(
          compose.services[dep]!.healthcheck ? "service_healthy" : "service_completed_successfully",
        );
      expect(Object.keys(s.depends_on ?? {}).sort()).toEqual([
        "kafka",
        "milvus",
        "minio-init",
        "postgres",
        "redis",
      ]);
    }
  });

  it("writes no secret inline: secrets come from secrets.env", () => {
    for (const [name, s] of services)
      for (const key of Object.keys(s.environment ?? {}))
        expect(key, name).not.toMatch(/PASSWORD|SECRET|TOKEN|PRIVATE_KEY|DATABASE_URL/);
    expect(read("../.gitignore")).toContain("/deploy/secrets.env");
  });

  it("has Prometheus scrape every SLO-Scout process and load SLO-Scout's own rules", () => {
    const prometheus = parse(read("compose/prometheus.yml"));
    const targets = prometheus.scrape_configs.flatMap((c: { static_configs: { targets: string[] }[] }) =>
      c.static_configs.flatMap((t) => t.targets),
    );
    expect(targets.sort()).toEqual(sloScout.map(([n]) => `${n}:3000`).sort());
    expect(prometheus.rule_files).toEqual(["/etc/prometheus/slo-scout.rules.yml"]);
  });
});

describe("deploy/helm/slo-scout", () => {
  const values = parse(read("helm/slo-scout/values.yaml"));
  const templates = ["deployments.yaml", "configmap.yaml"].map((f) => read(`helm/slo-scout/templates/${f}`));

  it("passes only real config keys: the config values and the env the templates set", () => {
    for (const key of Object.keys(values.config)) expect(configKeys, key).toContain(key);
    const named = templates.flatMap((t) => [
      ...[...t.matchAll(/- name: ([A-Z][A-Z0-9_]+)/g)].map((m) => m[1]!),
      ...[...t.matchAll(/^ {2}([A-Z][A-Z0-9_]+): /gm)].map((m) => m[1]!),
    ]);
    expect(named.length).toBeGreaterThan(5);
    for (const key of named) expect(configKeys, key).toContain(key);
  });

  it("splits receivers + API from workers, and each loads with the chart's settings and a Postgres secret", () => {
    for (const part of [values.receivers, values.workers]) {
      const config = loadConfig(
        {
          ...Object.fromEntries(Object.entries(values.config).map(([k, v]) => [k, String(v)])),
          DATABASE_URL: "postgres://slo@db:5432/slo",
          SLO_SCOUT_ROLES: part.roles,
        },
        "/nonexistent/slo-scout.yml",
      );
      expect(config.SLO_SCOUT_ROLES.length).toBeGreaterThan(0);
    }
    expect([values.receivers.roles, values.workers.roles]).toEqual(["receivers,api", "worker"]);
    // More workers than a topic's 3 partitions would sit idle.
    expect(values.workers.autoscaling.maxReplicas).toBeLessThanOrEqual(3);
  });

  it("lets values.schema.json accept exactly the roles the config accepts", () => {
    const schema = JSON.parse(read("helm/slo-scout/values.schema.json"));
    const roles = new RegExp(schema.definitions.component.properties.roles.pattern);
    for (const role of SERVER_ROLES) expect(role).toMatch(roles);
    expect(SERVER_ROLES.join(",")).toMatch(roles);
    for (const bad of ["", "pipeline", "receivers,", "api worker"]) expect(bad).not.toMatch(roles);
  });

  it("runs non-root with probes on /ready and /live, and takes secrets only by reference", () => {
    expect(values.podSecurityContext.runAsNonRoot).toBe(true);
    expect(values.podSecurityContext.runAsUser).toBeGreaterThan(0);
    expect(values.securityContext.allowPrivilegeEscalation).toBe(false);
    expect(values.probes.readiness.path).toBe("/ready");
    // Not /health: an outage of a backend would restart every healthy pod.
    expect(values.probes.liveness.path).toBe("/live");
    const secretish = /password|secret|token|private.?key/i;
    const walk = (node: unknown, path: string): void => {
      if (node && typeof node === "object")
        for (const [k, v] of Object.entries(node)) walk(v, `${path}.${k}`);
      else if (secretish.test(path))
        expect(path, "a secret must be a Secret's name").toMatch(/existingSecret$/);
    };
    walk(values, "values");
    expect(typeof values.existingSecret).toBe("string");
    for (const host of ["github", "gitlab", "slack"]) expect(values[host]).toHaveProperty("existingSecret");
  });
});
