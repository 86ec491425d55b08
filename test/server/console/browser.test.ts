import { execFileSync } from "node:child_process";
import { accessSync, constants, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import pino from "pino";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { analyze } from "../../../src/app/analyze.js";
import { type AppContext, openApp } from "../../../src/app/context.js";
import { ConfigSchema } from "../../../src/config.js";
import { buildServer } from "../../../src/server/app.js";
import { ROUTES } from "../../../src/server/routes.js";
import { ROOT } from "../../generators/helpers.js";
import { SMALL_DEMO_STEP_SECONDS, storeSmallDemo } from "../../helpers/demo-store.js";
import { requireService } from "../../helpers/services.js";

/**
 * The console in a real browser, end to end: the small demo shop stored through the stream stage into an
 * embedded database, `analyze checkout`, the server listening on loopback with every route `serve` mounts,
 * and headless Chromium (Debian's, driven by playwright-core; one launch) reading the console and
 * approving a proposal with a click. The screenshot of the change listed is kept in test-results/.
 */

const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const SCREENSHOT = join(ROOT, "test-results/console-change-listed.png");
const haveChromium = await requireService(
  `chromium at ${CHROMIUM} (scripts/services.sh up chromium)`,
  async () => accessSync(CHROMIUM, constants.X_OK),
);

describe.skipIf(!haveChromium)("web console in headless Chromium", { timeout: 240_000 }, () => {
  let dir: string;
  let repo: string;
  let app: AppContext;
  let server: FastifyInstance;
  let browser: Browser;
  let page: Page;
  let base: string;
  /** What the page logged as an error: a script error, or a style or resource the CSP blocked. */
  const pageErrors: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "slo-scout-browser-"));
    repo = join(dir, "repo");
    mkdirSync(repo);
    execFileSync("git", ["-C", repo, "init", "-q", "-b", "main"]);
    const config = ConfigSchema.parse({
      DATABASE_URL: "pglite://memory",
      SLO_SCOUT_REPO: repo,
      BLOB_URL: `file://${join(dir, "blobs")}`,
      OTLP_GRPC_PORT: "0",
      LOG_LEVEL: "silent",
    });
    const logger = pino({ level: "silent" });
    app = await openApp(config, { logger });
    await storeSmallDemo(app.sql, join(dir, "blobs"));
    const analysed = await analyze(app, {
      service: "checkout",
      window: "7d",
      stepMs: SMALL_DEMO_STEP_SECONDS * 1000,
    });
    if (!analysed.ok) throw new Error(analysed.refusal.reason);
    server = await buildServer(
      { config, logger, sql: app.sql, app, bus: await app.bus(), blobs: await app.blobs() },
      { plugins: ROUTES },
    );
    await server.listen({ host: "127.0.0.1", port: 0 });
    const address = server.server.address();
    base = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
    browser = await chromium.launch({ executablePath: CHROMIUM });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on("console", (m) => {
      if (m.type() === "error") pageErrors.push(m.text());
    });
    page.on("pageerror", (err) => pageErrors.push(err.message));
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("reads the demo, approves a proposal with a click, and lists its change", async () => {
    await page.goto(`${base}/`);
    expect(await page.title()).toBe("Services · SLO-Scout");
    // The first Tab reaches the skip link, and it leads to the main landmark.
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Skip to content");

    await page.getByRole("link", { name: "checkout", exact: true }).first().click();
    await page.waitForURL(`${base}/services/checkout`);
    await expect.poll(() => page.getByRole("img").count()).toBeGreaterThan(1);
    expect(await page.getByRole("img").first().getAttribute("aria-labelledby")).toBe("journey-1-caption");

    await page.getByRole("link", { name: "checkout POST /checkout availability" }).click();
    await page.waitForURL(/\/proposals\/prop-[0-9a-f]{12}$/);
    const id = page.url().split("/").at(-1)!;
    expect(await page.getByLabel("Approve at target (%)").inputValue()).toMatch(/^\d+(\.\d+)?$/);

    await page.getByRole("button", { name: "Approve" }).click();
    await page.waitForURL(/\/changes\?opened=\d+$/, { timeout: 120_000 });
    const notice = page.getByRole("status");
    expect(await notice.textContent()).toContain("slo-scout/checkout");
    const row = page.getByRole("row").filter({ hasText: id });
    expect(await row.count()).toBe(1);
    expect(await row.textContent()).toContain("slo-scout/checkout");
    await page.screenshot({ path: SCREENSHOT, fullPage: true });

    expect(
      execFileSync("git", ["-C", repo, "ls-tree", "-r", "--name-only", "slo-scout/checkout"], {
        encoding: "utf8",
      }),
    ).toContain("slos/checkout.yml");
    expect(pageErrors).toEqual([]);
  });
});
