import { type GitLabApi, type Noteable, statusOf } from "../../store/githost/gitlab.js";

/**
 * The GitLab calls the bot makes beside the git host's: who the bot is, 👀 on a command, a thread's notes,
 * a member's access level, a merge request's changed paths and a commit status. Each is one documented
 * REST call through gitbeaker.
 */

/** GitLab's access levels (doc/api/members.md): Developer may push, Reporter may only read. */
export const ACCESS = { none: 0, guest: 10, reporter: 20, developer: 30, maintainer: 40, owner: 50 } as const;

export interface BotUser {
  id: number;
  username: string;
}

/** The user the token acts as (`GET /user`), asked once per client. */
export function botUser(api: GitLabApi): () => Promise<BotUser> {
  let me: Promise<BotUser> | undefined;
  return () => {
    if (!me) {
      me = api.Users.showCurrentUser().then((u) => ({ id: u.id, username: u.username }));
      me.catch(() => {
        me = undefined;
      });
    }
    return me;
  };
}

/** Awards an emoji to a note (`eyes`: the command was seen). */
export async function awardNoteEmoji(
  api: GitLabApi,
  project: number,
  noteable: Noteable,
  noteId: number,
  name: string,
): Promise<void> {
  if (noteable.kind === "merge_request")
    await api.MergeRequestNoteAwardEmojis.award(project, noteable.iid, noteId, name);
  else await api.IssueNoteAwardEmojis.award(project, noteable.iid, noteId, name);
}

export interface NoteRef {
  id: number;
  body: string;
  authorId: number;
}

/** Every note of a merge request or an issue, oldest first. */
export async function listNotes(api: GitLabApi, project: number, noteable: Noteable): Promise<NoteRef[]> {
  const opts = { sort: "asc" as const, orderBy: "created_at" as const };
  const notes =
    noteable.kind === "merge_request"
      ? await api.MergeRequestNotes.all(project, noteable.iid, opts)
      : await api.IssueNotes.all(project, noteable.iid, opts);
  return notes.map((n) => ({ id: n.id, body: n.body, authorId: n.author.id }));
}

/**
 * A user's access level in the project, inherited memberships included (`GET /projects/:id/members/all/:user_id`);
 * 0 when they are not a member.
 */
export async function accessLevel(api: GitLabApi, project: number, userId: number): Promise<number> {
  try {
    const member = await api.ProjectMembers.show(project, userId, { includeInherited: true });
    return Number(member.access_level);
  } catch (err) {
    if (statusOf(err) === 404) return ACCESS.none;
    throw err;
  }
}

/** The paths a merge request changes (old and new names of a rename), with whether each was deleted. */
export async function mergeRequestPaths(
  api: GitLabApi,
  project: number,
  iid: number,
): Promise<{ path: string; deleted: boolean }[]> {
  const diffs = await api.MergeRequests.allDiffs(project, iid);
  return diffs.map((d) => ({ path: d.new_path, deleted: Boolean(d.deleted_file) }));
}

/** Sets the commit status `name` on a commit (a merge request shows it beside its pipeline). */
export async function setCommitStatus(
  api: GitLabApi,
  project: number,
  sha: string,
  status: {
    state: "pending" | "running" | "success" | "failed";
    name: string;
    description: string;
    targetUrl?: string;
  },
): Promise<void> {
  await api.Commits.editStatus(project, sha, status.state, {
    name: status.name,
    description: status.description.slice(0, 255),
    ...(status.targetUrl ? { targetUrl: status.targetUrl } : {}),
  });
}
