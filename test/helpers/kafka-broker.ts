import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kafka, logLevel } from "kafkajs";

/**
 * Kafka for live tests. The shared broker is the one `scripts/services.sh up kafka` runs (KAFKA_BROKERS,
 * default 127.0.0.1:9092); a test that stops a broker starts its own with `startKafkaBroker`, from the jars
 * that script fetched, so the files vitest runs in parallel never lose the shared one.
 */

export function kafkaBrokers(): string[] {
  return (process.env.KAFKA_BROKERS ?? "127.0.0.1:9092").split(",");
}

/** Resolves when the brokers answer a metadata request (one attempt, a few seconds at most). */
export async function kafkaProbe(brokers: string[]): Promise<void> {
  const admin = new Kafka({
    brokers,
    clientId: "slo-scout-probe",
    connectionTimeout: 2000,
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
  }).admin();
  try {
    await admin.connect();
    await admin.describeCluster();
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

const stateDir = process.env.SLO_SCOUT_SERVICES_STATE ?? new URL("../../.services", import.meta.url).pathname;
const libs = join(stateDir, "kafka", "libs");

export interface KafkaBroker {
  readonly brokers: string[];
  /** Kills the broker as a crash would (SIGKILL): whatever it acknowledged is on disk already. */
  stop(): Promise<void>;
  /** Starts it again on the same data and waits until it answers. */
  start(): Promise<void>;
  /** Stops it and deletes its data. */
  remove(): Promise<void>;
}

/**
 * A single-node KRaft broker of its own on `port` (controller on `port + 1`), with its data in a temporary
 * directory. Throws when the jars are missing (run `bash scripts/services.sh up kafka` first).
 */
export async function startKafkaBroker(port = 19092): Promise<KafkaBroker> {
  if (!existsSync(join(libs, ".version"))) {
    throw new Error(`no Kafka jars in ${libs}; run bash scripts/services.sh up kafka`);
  }
  const dir = mkdtempSync(join(tmpdir(), "slo-scout-kafka-"));
  const config = join(dir, "server.properties");
  const listeners = `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${port + 1}`;
  writeFileSync(
    config,
    [
      "process.roles=broker,controller",
      "node.id=1",
      `controller.quorum.bootstrap.servers=127.0.0.1:${port + 1}`,
      `listeners=${listeners}`,
      `advertised.listeners=${listeners}`,
      "controller.listener.names=CONTROLLER",
      "inter.broker.listener.name=PLAINTEXT",
      "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
      `log.dirs=${join(dir, "data")}`,
      "num.partitions=3",
      "offsets.topic.replication.factor=1",
      "transaction.state.log.replication.factor=1",
      "transaction.state.log.min.isr=1",
      "share.coordinator.state.topic.replication.factor=1",
      "min.insync.replicas=1",
      "group.initial.rebalance.delay.ms=0",
      "",
    ].join("\n"),
  );
  writeFileSync(join(dir, "log4j2.properties"), "rootLogger.level=WARN\n");
  const java = (main: string, args: string[]) =>
    spawn(
      "java",
      [
        "-Xms128m",
        "-Xmx384m",
        `-Dlog4j2.configurationFile=${join(dir, "log4j2.properties")}`,
        "-cp",
        join(libs, "*"),
        main,
        ...args,
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
  // A Kafka cluster id is 16 random bytes, base64url without padding.
  const clusterId = randomBytes(16).toString("base64url");
  await exited(java("kafka.tools.StorageTool", ["format", "--standalone", "-c", config, "-t", clusterId]));

  const brokers = [`127.0.0.1:${port}`];
  let proc: ChildProcess | undefined;
  const broker: KafkaBroker = {
    brokers,
    async start() {
      proc = java("kafka.Kafka", [config]);
      const deadline = Date.now() + 60_000;
      for (;;) {
        if (proc.exitCode !== null) throw new Error(`the test broker exited with ${proc.exitCode}`);
        try {
          await kafkaProbe(brokers);
          return;
        } catch (err) {
          if (Date.now() > deadline) throw new Error(`the test broker did not answer in 60 s: ${err}`);
          await new Promise((r) => setTimeout(r, 250));
        }
      }
    },
    async stop() {
      const p = proc;
      proc = undefined;
      if (!p || p.exitCode !== null) return;
      const gone = new Promise((r) => p.once("exit", r));
      p.kill("SIGKILL");
      await gone;
    },
    async remove() {
      await broker.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await broker.start();
  return broker;
}

function exited(p: ChildProcess): Promise<void> {
  let stderr = "";
  p.stderr?.on("data", (d) => {
    stderr += d;
  });
  return new Promise((resolve, reject) =>
    p.once("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`${p.spawnargs.join(" ")} exited ${code}: ${stderr}`)),
    ),
  );
}
