/**
 * Sticky replies: one bot comment per (thread, subject) that every later step edits in place instead of
 * adding a comment. The comment carries a hidden HTML comment naming its subject, so the bot finds it again
 * among the thread's comments after a restart, with no state of its own. Subjects are a service name, or a
 * fixed word for replies about no service (`general`, `review`).
 */

/** The subject of replies that concern no one service (help, status, a refused command). */
export const GENERAL = "general";

const SUBJECT = /^[a-z0-9][a-z0-9._+-]{0,127}$/;
const MARKER = /<!-- slo-scout:sticky:([a-z0-9][a-z0-9._+-]{0,127}) -->/;

/** The hidden marker of a subject; a subject the marker cannot carry is a caller bug. */
export function stickyMarker(subject: string): string {
  if (!SUBJECT.test(subject)) throw new Error(`${JSON.stringify(subject)} cannot be a sticky subject`);
  return `<!-- slo-scout:sticky:${subject} -->`;
}

/** The body with its subject's marker first, so it survives the body being cut at its end. */
export function withSticky(subject: string, body: string): string {
  return `${stickyMarker(subject)}\n${body}`;
}

/** The subject a comment body's marker names; undefined for a comment that is not a sticky reply. */
export function stickySubject(body: string | null | undefined): string | undefined {
  return body ? MARKER.exec(body)?.[1] : undefined;
}

/**
 * The sticky reply for a subject among a thread's comments: the oldest one the bot wrote with that marker
 * (a comment by anyone else quoting the marker does not count).
 */
export function findSticky<C extends { body?: string | null }>(
  comments: C[],
  subject: string,
  byBot: (comment: C) => boolean,
): C | undefined {
  return comments.find((c) => byBot(c) && stickySubject(c.body) === subject);
}

/** A sticky subject for a set of services: their names joined, or GENERAL for none. */
export function subjectOf(services: string[]): string {
  const unique = [...new Set(services)].sort();
  return unique.length === 0 ? GENERAL : unique.join("+").slice(0, 128);
}
