import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it, vi } from "vitest";
import { main } from "../src/cli.js";
import { ConfigSchema } from "../src/config.js";

/** The README must stay true as features land: every config key and every command is documented. */
const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");

function section(title: string): string {
  const start = readme.indexOf(`## ${title}\n`);
  expect(start, `README has a "## ${title}" section`).toBeGreaterThanOrEqual(0);
  const end = readme.indexOf("\n## ", start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

/** First-column names of the markdown table rows in `text`. */
const firstColumn = (text: string) => [...text.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]!);

afterEach(() => {
  vi.restoreAllMocks();
});

describe("README", () => {
  it("has the two-command quickstart", () => {
    const quick = section("Quickstart");
    expect(quick).toContain("npm ci && npm start");
    expect(quick).toContain("npm ci && npm test");
  });

  it("documents every configuration key, and no key that does not exist", () => {
    const documented = firstColumn(section("Configuration")).sort();
    expect(documented).toEqual(Object.keys(ConfigSchema.shape).sort());
  });

  it("lists every CLI command, and no command that does not exist", async () => {
    let help = "";
    vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
      help += String(chunk);
      return true;
    });
    expect(await main(["--help"])).toBe(0);
    const commands = [...help.matchAll(/^ {2}([a-z][a-z-]*) {2,}/gm)].map((m) => m[1]!).sort();
    expect(commands.length).toBeGreaterThan(0);
    expect(firstColumn(section("CLI")).sort()).toEqual(commands);
  });
});
