import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";

/**
 * No container engine runs where the tests do (and hadolint is not installed), so the image's build
 * definition is checked for the properties it promises: multi-stage, production dependencies only,
 * non-root, the CLI as entrypoint with `serve` by default, a healthcheck on /ready, and a build context
 * that holds what the runtime reads and nothing local.
 */

const root = new URL("../../", import.meta.url);
const dockerfile = readFileSync(new URL("Dockerfile", root), "utf8");
const dockerignore = readFileSync(new URL(".dockerignore", root), "utf8")
  .split("\n")
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith("#"));

interface Instruction {
  op: string;
  args: string;
}

/** Instructions per stage, continuation lines joined, comments dropped. */
function stages(text: string): Instruction[][] {
  const joined = text.replace(/\\\n/g, " ");
  const result: Instruction[][] = [];
  for (const line of joined.split("\n")) {
    const m = /^\s*([A-Z]+)\s+(.*)$/.exec(line);
    if (!m || line.trim().startsWith("#")) continue;
    const ins = { op: m[1]!, args: m[2]!.trim() };
    if (ins.op === "FROM") result.push([]);
    result.at(-1)?.push(ins);
  }
  return result;
}

const all = stages(dockerfile);
const final = all.at(-1)!;
const ops = (stage: Instruction[], op: string) => stage.filter((i) => i.op === op).map((i) => i.args);

describe("Dockerfile", () => {
  it("installs production dependencies with npm ci in a build stage and copies them into the final one", () => {
    expect(all.length).toBeGreaterThanOrEqual(2);
    const build = all.find((s) => /\bAS build$/i.test(s[0]!.args))!;
    expect(ops(build, "RUN").some((r) => /npm ci\b.*--omit=dev/.test(r))).toBe(true);
    expect(ops(final, "RUN").join(" ")).not.toMatch(/\bnpm (ci|install)\b/);
    expect(ops(final, "COPY")).toContain("--from=build /app /app");
  });

  it("runs as a non-root user, with the data directory as a volume it owns", () => {
    const user = ops(final, "USER").at(-1);
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    const dataDir = /DATA_DIR=(\S+)/.exec(ops(final, "ENV").join(" "))?.[1];
    expect(dataDir).toBe("/var/lib/slo-scout");
    expect(ops(final, "VOLUME").join(" ")).toContain(dataDir);
    expect(ops(final, "RUN").join(" ")).toContain(`chown ${user}:${user} ${dataDir}`);
  });

  it("has the CLI as entrypoint, serve as the default command and a node healthcheck on /ready", () => {
    const entrypoint = JSON.parse(ops(final, "ENTRYPOINT").at(-1)!) as string[];
    expect(entrypoint[0]).toBe("node");
    expect(entrypoint.at(-1)).toBe("/app/bin/slo-scout.js");
    expect(JSON.parse(ops(final, "CMD").at(-1)!)).toEqual(["serve"]);
    const health = ops(final, "HEALTHCHECK").at(-1)!;
    const cmd = JSON.parse(health.slice(health.indexOf("CMD") + 3).trim()) as string[];
    expect(cmd.slice(0, 2)).toEqual(["node", "-e"]);
    expect(cmd[2]).toContain("/ready");
  });

  it("exposes the HTTP and OTLP/gRPC ports the config defaults to", () => {
    const config = loadConfig({}, "/nonexistent/slo-scout.yml");
    const exposed = ops(final, "EXPOSE").join(" ").split(/\s+/).map(Number);
    expect(exposed).toEqual(expect.arrayContaining([config.PORT, config.OTLP_GRPC_PORT]));
  });

  it("takes base images by tag, never latest", () => {
    const images = all.map((s) => s[0]!.args.split(/\s+/)[0]!);
    const args = Object.fromEntries(
      [...dockerfile.matchAll(/^ARG (\w+)=(\S+)$/gm)].map((m) => [`\${${m[1]}}`, m[2]!]),
    );
    for (const image of images.map((i) => args[i] ?? i))
      expect(image).toMatch(/^[\w./-]+:(?!latest$)[\w.-]+$/);
  });

  it("copies what the runtime reads, and the context leaves out local state", () => {
    const copied = ops(all.find((s) => /\bAS build$/i.test(s[0]!.args))!, "COPY").join(" ");
    // Files src/ reads at run time, relative to the package root.
    for (const path of ["package.json", "bin", "src", "schemas", "templates", "app.yml"])
      expect(copied).toMatch(new RegExp(`(^|\\s)${path.replace(".", "\\.")}(\\s|$)`));
    for (const local of [".git", "node_modules", ".services", ".slo-scout", "test", ".env"])
      expect(dockerignore).toContain(local);
    for (const needed of ["src", "bin", "schemas", "templates", "package.json", "package-lock.json"])
      expect(dockerignore).not.toContain(needed);
  });
});
