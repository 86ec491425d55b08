import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  burnRateWindows,
  distinctWindows,
  googleWindows,
  mwmbWindows,
  WindowsCatalog,
  WindowsError,
} from "../../src/core/alert-windows.js";
import { parseAlertWindows } from "../../src/generators/windows.js";
import { FIXTURES } from "./helpers.js";

const DAY = 86_400_000;
const factors = (periodDays: number) =>
  burnRateWindows(mwmbWindows(googleWindows(periodDays * DAY))).map((w) => w.factor);

describe("MWMB burn-rate factors", () => {
  it("are the Workbook's 14.4, 6, 3, 1 for 30 days", () => {
    expect(factors(30)).toEqual([14.4, 6, 3, 1]);
  });

  it("scale with the period exactly as Sloth computes them (28d)", () => {
    expect(factors(28)).toEqual([13.44, 5.6000000000000005, 2.8000000000000003, 0.9333333333333333]);
  });

  it("record the windows the alerts need, shortest first", () => {
    const w = mwmbWindows(googleWindows(30 * DAY));
    expect(distinctWindows(w).map((ms) => ms / 60_000)).toEqual([5, 30, 60, 120, 360, 1440, 4320]);
  });
});

describe("AlertWindows files", () => {
  it("parse Sloth's format and drive the factors", () => {
    const w = parseAlertWindows(readFileSync(join(FIXTURES, "windows/7d.yaml"), "utf8"), "7d.yaml");
    expect(w.periodMs).toBe(7 * DAY);
    const f = burnRateWindows(mwmbWindows(w)).map((x) => x.factor);
    expect(f).toEqual([16.8, 5.6000000000000005, 1.75, 2.3333333333333335]);
  });

  it("name the bad field", () => {
    const text = `apiVersion: sloth.slok.dev/v1
kind: AlertWindows
spec:
  sloPeriod: 7d
  page:
    quick: {errorBudgetPercent: 8, shortWindow: 5m, longWindow: 1h}
    slow: {errorBudgetPercent: 12.5, shortWindow: 30m, longWindow: 6h}
  ticket:
    quick: {errorBudgetPercent: 20, shortWindow: 2h, longWindow: 1d}
    slow: {errorBudgetPercent: 42, shortWindow: 6h, longWindow: three-days}`;
    expect(() => parseAlertWindows(text, "w.yaml")).toThrow(
      /w.yaml: spec.ticket.slow.longWindow must be a Prometheus duration/,
    );
    expect(() => parseAlertWindows("kind: Other", "x.yaml")).toThrow(WindowsError);
  });

  it("a custom catalog replaces the built-in periods", () => {
    const w = parseAlertWindows(readFileSync(join(FIXTURES, "windows/7d.yaml"), "utf8"));
    const catalog = WindowsCatalog.custom([w]);
    expect(catalog.get(7 * DAY)).toBe(w);
    expect(() => catalog.get(30 * DAY)).toThrow(/30d SLO period has no alert windows in the custom catalog/);
    expect(() => WindowsCatalog.custom([w, w])).toThrow(/defined twice/);
  });

  it("the built-in catalog falls back to the Workbook shares for other periods", () => {
    const catalog = new WindowsCatalog();
    expect(burnRateWindows(mwmbWindows(catalog.get(90 * DAY))).map((x) => x.factor)).toEqual([
      43.2, 18, 9, 3,
    ]);
  });
});
