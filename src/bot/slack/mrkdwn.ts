/**
 * Slack's `mrkdwn` for values that come from telemetry or users. Slack reads `&`, `<` and `>` as control
 * characters (`<!channel>`, `<@U123>`, `<url|text>`), so they are escaped as its docs ask; nothing else
 * is, because a stray `*` or `_` only changes emphasis, never who is notified or where a link goes.
 */

export function esc(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** An inline code span; a backtick inside would end it, so it becomes a look-alike quote. */
export function code(text: string): string {
  return `\`${esc(text.replace(/`/g, "ʼ"))}\``;
}

/** A link when the address is a web URL, the address as code otherwise (a local repository's path). */
export function link(text: string, url: string): string {
  if (!/^https?:\/\/[^\s<>|]+$/.test(url)) return code(url);
  return `<${url}|${esc(text).replace(/\|/g, "¦")}>`;
}

/** A user mention Slack renders with the person's name. */
export function mention(userId: string): string {
  return /^[UW][A-Z0-9]+$/.test(userId) ? `<@${userId}>` : code(userId);
}

/** Text cut to `max` characters with an ellipsis, never in the middle of an escape. */
export function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  const head = text.slice(0, max - 1);
  const amp = head.lastIndexOf("&");
  const safe =
    amp >= 0 && amp > head.length - 5 && !head.slice(amp).includes(";") ? head.slice(0, amp) : head;
  return `${safe}…`;
}
