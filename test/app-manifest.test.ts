import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

describe("app.yml (GitHub App manifest)", () => {
  const manifest = parse(readFileSync(new URL("../app.yml", import.meta.url), "utf8"));

  it("subscribes to the events the bot handles", () => {
    expect([...manifest.default_events].sort()).toEqual(
      ["check_run", "installation", "issue_comment", "pull_request"].sort(),
    );
  });

  it("asks for exactly the permissions the bot needs", () => {
    expect(manifest.default_permissions).toEqual({
      contents: "write",
      pull_requests: "write",
      issues: "write",
      checks: "write",
      metadata: "read",
    });
  });

  it("has the fields GitHub requires to register an app from a manifest", () => {
    expect(manifest.name).toBe("SLO-Scout");
    expect(manifest.url).toMatch(/^https:\/\//);
    expect(manifest.hook_attributes.url).toMatch(/^https:\/\/.+\/webhooks$/);
    expect(manifest.description.length).toBeGreaterThan(20);
  });
});
