import { describe, expect, it } from "vitest";
import {
  findSticky,
  GENERAL,
  stickyMarker,
  stickySubject,
  subjectOf,
  withSticky,
} from "../../src/bot/sticky.js";

describe("sticky replies", () => {
  it("round-trips a subject through the hidden marker", () => {
    const body = withSticky("checkout", "## SLO-Scout: analysis");
    expect(body.startsWith("<!-- slo-scout:sticky:checkout -->\n")).toBe(true);
    expect(stickySubject(body)).toBe("checkout");
    expect(stickySubject("no marker here")).toBeUndefined();
    expect(stickySubject(null)).toBeUndefined();
  });

  it("refuses a subject the marker cannot carry", () => {
    expect(() => stickyMarker("Check out")).toThrow(/cannot be a sticky subject/);
    expect(() => stickyMarker("a -->")).toThrow();
  });

  it("finds the bot's oldest reply for the subject, not a human quoting the marker", () => {
    const comments = [
      { id: 1, body: withSticky("checkout", "quoted"), bot: false },
      { id: 2, body: withSticky("payment", "x"), bot: true },
      { id: 3, body: withSticky("checkout", "x"), bot: true },
      { id: 4, body: withSticky("checkout", "y"), bot: true },
    ];
    expect(findSticky(comments, "checkout", (c) => c.bot)?.id).toBe(3);
    expect(findSticky(comments, GENERAL, (c) => c.bot)).toBeUndefined();
  });

  it("names a set of services by their sorted names, and none as general", () => {
    expect(subjectOf(["payment", "checkout", "payment"])).toBe("checkout+payment");
    expect(subjectOf([])).toBe(GENERAL);
  });
});
