import { parse as parseYaml } from "yaml";
import { RUNBOOK_FRONT_MATTER_KEYS } from "../runbook.js";
import type { ArtifactValidator } from "./validator.js";

const REQUIRED_SECTIONS = ["## What the SLI measures", "## Reading the burn-rate alerts", "## First checks"];

/** A runbook must open with YAML front matter holding the SLO's keys, and carry the sections on-call reads. */
export function runbookErrors(text: string, display: string): string[] {
  const m = /^---\n([\s\S]*?)\n---\n/.exec(text);
  if (!m) return [`${display}:1: runbook has no YAML front matter (--- … ---)`];
  const out: string[] = [];
  let fm: unknown;
  try {
    fm = parseYaml(m[1]!);
  } catch (err) {
    return [`${display}:2: front matter is not valid YAML (${(err as Error).message.split("\n")[0]})`];
  }
  const rec = (fm ?? {}) as Record<string, unknown>;
  for (const key of RUNBOOK_FRONT_MATTER_KEYS) {
    if (rec[key] === undefined || rec[key] === "") out.push(`${display}:2: front matter lacks ${key}`);
  }
  for (const section of REQUIRED_SECTIONS) {
    if (!text.includes(`\n${section}`))
      out.push(`${display}:1: runbook lacks the section "${section.slice(3)}"`);
  }
  // Queries legitimately hold Sloth's `{{.window}}`; a Handlebars block tag left behind does not belong.
  if (/\{\{[#/^]/.test(text)) out.push(`${display}:1: runbook holds an unrendered template block`);
  return out;
}

export const runbookValidator: ArtifactValidator = {
  kind: "runbook",
  matches: (f) =>
    /\.md$/i.test(f.path) && f.text.startsWith("---\n") && /\ngenerated_by: slo-scout\n/.test(f.text),
  async validate(files) {
    return files.flatMap((f) => runbookErrors(f.text, f.display));
  },
};
