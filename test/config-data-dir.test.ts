import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { fileBlobRoot } from "../src/store/blobs/file.js";
import { pgliteDataDir } from "../src/store/sql/pglite.js";

const load = (env: Record<string, string>) => loadConfig(env, "/nonexistent/slo-scout.yml");

describe("DATA_DIR", () => {
  it("defaults the embedded stores to ./.slo-scout", () => {
    const c = load({});
    expect(c.DATABASE_URL).toBe("pglite://./.slo-scout/db");
    expect(c.BLOB_URL).toBe("file://./.slo-scout/blobs");
  });

  it("moves the embedded database and blobs together", () => {
    const c = load({ DATA_DIR: "/var/lib/slo scout/" });
    expect(pgliteDataDir(c.DATABASE_URL)).toBe("/var/lib/slo scout/db");
    expect(fileBlobRoot(c.BLOB_URL)).toBe("/var/lib/slo scout/blobs");
  });

  it("leaves explicit store URLs alone", () => {
    const c = load({ DATA_DIR: "/data", DATABASE_URL: "postgres://db/slo", BLOB_URL: "s3://bucket" });
    expect(c.DATABASE_URL).toBe("postgres://db/slo");
    expect(c.BLOB_URL).toBe("s3://bucket");
  });
});
