/**
 * The `/slo-scout …` lines of a comment (a GitHub comment, a GitLab note): each line that starts with the
 * prefix is one command, as the person typed it (the command language strips the prefix). Lines inside
 * fenced code blocks and quoted lines (`> /slo-scout …`, a reply quoting someone) are text, not commands,
 * and so is the prefix in the middle of a sentence. At most `MAX_COMMANDS` are taken from one comment.
 */

export const MAX_COMMANDS = 5;

const PREFIX = /^[/@]slo-scout(?=\s|$)/i;
const FENCE = /^\s{0,3}(`{3,}|~{3,})/;

export function commandLines(body: string): string[] {
  const out: string[] = [];
  let fence: string | undefined;
  for (const raw of body.split(/\r?\n/)) {
    const open = FENCE.exec(raw)?.[1];
    if (open !== undefined) {
      // A fence closes with at least as many of the same character it opened with.
      if (fence === undefined) fence = open;
      else if (open[0] === fence[0] && open.length >= fence.length) fence = undefined;
      continue;
    }
    if (fence !== undefined) continue;
    const line = raw.trim();
    if (PREFIX.test(line)) out.push(line);
    if (out.length === MAX_COMMANDS) break;
  }
  return out;
}
