import { describe, expect, it } from "vitest";
import { commandLines, MAX_COMMANDS } from "../../src/bot/comment-commands.js";

describe("commandLines", () => {
  it("takes each line that starts with the prefix, as typed", () => {
    const body =
      "Looks good.\r\n/slo-scout analyze checkout --window 30d\n  /SLO-Scout help approve  \n@slo-scout status";
    expect(commandLines(body)).toEqual([
      "/slo-scout analyze checkout --window 30d",
      "/SLO-Scout help approve",
      "@slo-scout status",
    ]);
  });

  it("ignores the prefix mid-sentence, quoted replies, code blocks and longer words", () => {
    const body = [
      "please run /slo-scout analyze checkout",
      "> /slo-scout approve all",
      "````",
      "/slo-scout approve all",
      "```",
      "/slo-scout approve all",
      "````",
      "~~~",
      "/slo-scout reject prop-000000000000",
      "~~~",
      "/slo-scouting analyze",
      "`/slo-scout approve all`",
      "/slo-scout",
    ].join("\n");
    expect(commandLines(body)).toEqual(["/slo-scout"]);
  });

  it("takes at most MAX_COMMANDS commands from one comment", () => {
    const body = Array.from({ length: MAX_COMMANDS + 3 }, (_, i) => `/slo-scout help ${i}`).join("\n");
    expect(commandLines(body)).toHaveLength(MAX_COMMANDS);
  });

  it("finds nothing in an empty comment", () => {
    expect(commandLines("")).toEqual([]);
  });
});
