import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { RuleFile } from "../../src/generators/model.js";
import { ruleFileToYaml, scalar } from "../../src/generators/rules-yaml.js";

describe("the rule-file writer", () => {
  it("writes scalars that read back as the same strings", () => {
    const tricky = [
      "2",
      "1.5",
      "1e3",
      "0x1F",
      "2026-11-27",
      "true",
      "No",
      "null",
      "~",
      "",
      " lead",
      "trail ",
      "a: b",
      "a #b",
      "#x",
      "-x",
      "{{$labels.a}}",
      "'q'",
      '"dq"',
      "x:",
      "tab\there",
      "line\nbreak",
      "ünïcode",
      "50%",
      "@at",
      "5m",
      "examplesgen.sh",
      "(page) {{$labels.sloth_service}} burn",
      "#alerts-myteam",
      "<<",
      "=",
    ];
    for (const v of tricky) expect(parse(`k: ${scalar(v)}`).k, JSON.stringify(v)).toBe(v);
  });

  it("writes a rule file that parses back to the model, multi-line expressions as blocks", () => {
    const file: RuleFile = {
      groups: [
        {
          name: "g",
          interval: "1m",
          rules: [
            { record: "slo:x:ratio", expr: "(a)\n/\n(b)\n", labels: { tier: "2", team: "#ops", b: "x: y" } },
            { record: "slo:y:ratio", expr: "(\n  1 - x\n)", labels: {} },
            { record: "slo:z", expr: "  leading\n\nspaces\n\n", labels: {} },
            {
              alert: "A",
              expr: "up == 0",
              for: "5m",
              labels: { sloth_severity: "page" },
              annotations: { summary: "{{$labels.job}} down" },
            },
          ],
        },
      ],
    };
    const text = ruleFileToYaml(file);
    expect(text).toContain("    expr: |\n      (a)\n      /\n      (b)\n");
    expect(text).toContain("    expr: |-\n      (\n        1 - x\n      )\n");
    const back = parse(text);
    expect(back).toEqual({
      groups: [
        {
          name: "g",
          interval: "1m",
          rules: [
            { record: "slo:x:ratio", expr: "(a)\n/\n(b)\n", labels: { b: "x: y", team: "#ops", tier: "2" } },
            { record: "slo:y:ratio", expr: "(\n  1 - x\n)" },
            { record: "slo:z", expr: "  leading\n\nspaces\n\n" },
            {
              alert: "A",
              expr: "up == 0",
              for: "5m",
              labels: { sloth_severity: "page" },
              annotations: { summary: "{{$labels.job}} down" },
            },
          ],
        },
      ],
    });
  });
});
