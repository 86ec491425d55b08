import {
  editNote,
  type GitLabApi,
  type Noteable,
  noteCommentId,
  postNote,
} from "../../store/githost/gitlab.js";
import { findSticky, withSticky } from "../sticky.js";
import type { BotUser } from "./project-api.js";
import { listNotes } from "./project-api.js";

/**
 * Writes the sticky note of a subject on a merge request or an issue: the bot's note carrying the
 * subject's marker is edited in place, or a first one is posted. Returns its comment id.
 */
export async function upsertStickyNote(
  api: GitLabApi,
  project: number,
  noteable: Noteable,
  subject: string,
  markdown: string,
  bot: BotUser,
): Promise<string> {
  const body = withSticky(subject, markdown);
  const sticky = findSticky(await listNotes(api, project, noteable), subject, (n) => n.authorId === bot.id);
  if (!sticky) return postNote(api, project, noteable, body);
  const commentId = noteCommentId(noteable, sticky.id);
  await editNote(api, project, commentId, body);
  return commentId;
}
