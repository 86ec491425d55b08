import { createHash } from "node:crypto";

/**
 * A fingerprint is the SHA-256 (hex) of `service + "\n" + normalizeTemplate(template)`.
 *
 * Normalising keeps what identifies a kind of line — its constant words, in order — and drops what only
 * describes its variables: every placeholder (typed `<IP>`/`<EMAIL>` from redaction or `<*>`), tokens made
 * only of placeholders and punctuation (`<*>:<*>`, `(<*>)`), and a unit word right after such a token
 * (`<*> bytes`, `<*> sec`). So `<*> bytes sent` and `<*> bytes (<*> KB) sent` — one kind of line whose
 * variable spans a different number of tokens — share a fingerprint, and so do templates that differ
 * only in how finely a variable was split (`<*>` vs `<*>:<*>`). Constant words are never dropped, so two
 * templates with different wording never collide.
 */

const PLACEHOLDER = /<(?:\*|[A-Z][A-Z_]{1,15})>/g;
const ONLY_VARIABLE = /^[\p{P}\p{S}]*$/u;
/** Units a number is commonly written with; only dropped right after a variable. */
const UNITS = new Set(
  (
    "b kb mb gb tb pb kib mib gib tib byte bytes k m g t ms msec msecs us usec ns s sec secs second seconds " +
    "min mins minute minutes h hr hrs hour hours d day days w week weeks % pct percent x times"
  ).split(" "),
);
const AFFIX = /^[\p{P}]+|[\p{P}]+$/gu;

export function normalizeTemplate(template: string): string {
  const out: string[] = [];
  let afterVariable = false;
  for (const token of template.split(/\s+/)) {
    if (token.length === 0) continue;
    const hasPlaceholder = token.search(PLACEHOLDER) >= 0;
    if (hasPlaceholder && ONLY_VARIABLE.test(token.replace(PLACEHOLDER, ""))) {
      afterVariable = true;
      continue;
    }
    if (afterVariable && UNITS.has(token.replace(AFFIX, "").toLowerCase())) {
      afterVariable = false;
      continue;
    }
    afterVariable = false;
    out.push(hasPlaceholder ? token.replace(PLACEHOLDER, "<*>") : token);
  }
  return out.join(" ");
}

export function fingerprintOf(service: string, template: string): string {
  return createHash("sha256")
    .update(`${service}\n${normalizeTemplate(template)}`)
    .digest("hex");
}
