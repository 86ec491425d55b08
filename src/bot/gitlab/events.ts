import { z } from "zod";
import type { Noteable } from "../../store/githost/gitlab.js";

/**
 * The parts of GitLab's webhook payloads the bot reads (doc/user/project/integrations/webhook_events.md):
 * the Note Hook (a comment on a merge request or an issue) and the Merge Request Hook. Everything else in
 * a payload is ignored; a payload without these fields is not one the bot acts on.
 */

const User = z.object({ id: z.number().int(), username: z.string().min(1), name: z.string().optional() });
const Project = z.object({
  id: z.number().int(),
  path_with_namespace: z.string().min(1),
  default_branch: z.string().min(1).nullish(),
  web_url: z.string().optional(),
});

const NoteHook = z.object({
  object_kind: z.literal("note"),
  user: User,
  project: Project,
  object_attributes: z.object({
    id: z.number().int(),
    note: z.string(),
    noteable_type: z.string(),
    system: z.boolean().nullish(),
    action: z.string().nullish(),
    url: z.string().optional(),
  }),
  merge_request: z.object({ iid: z.number().int(), target_branch: z.string().optional() }).optional(),
  issue: z.object({ iid: z.number().int() }).optional(),
});

const MergeRequestHook = z.object({
  object_kind: z.literal("merge_request"),
  user: User,
  project: Project,
  object_attributes: z.object({
    iid: z.number().int(),
    action: z.string().nullish(),
    state: z.string(),
    source_branch: z.string(),
    target_branch: z.string(),
    oldrev: z.string().nullish(),
    url: z.string().optional(),
    last_commit: z.object({ id: z.string().regex(/^[0-9a-f]{40}$/) }),
  }),
});

export interface GitLabProjectRef {
  id: number;
  path: string;
  defaultBranch: string;
}

/** A comment someone wrote on a merge request or an issue. */
export interface NoteEvent {
  kind: "note";
  project: GitLabProjectRef;
  user: { id: number; username: string };
  noteable: Noteable;
  noteId: number;
  text: string;
  url?: string;
}

/** A merge request opened, or given new commits. */
export interface MergeRequestEvent {
  kind: "merge_request";
  project: GitLabProjectRef;
  iid: number;
  headSha: string;
  sourceBranch: string;
  targetBranch: string;
  url?: string;
}

/** A merge request merged or closed: the changes it held are done with. */
export interface MergeRequestClosedEvent {
  kind: "merge_request_closed";
  project: GitLabProjectRef;
  iid: number;
  sourceBranch: string;
}

export type GitLabEvent = NoteEvent | MergeRequestEvent | MergeRequestClosedEvent;

const projectRef = (p: z.infer<typeof Project>): GitLabProjectRef => ({
  id: p.id,
  path: p.path_with_namespace,
  defaultBranch: p.default_branch ?? "main",
});

/**
 * The event a delivery carries, when it is one the bot acts on: a new (not edited, not system) note on a
 * merge request or an issue; a merge request opened, reopened or updated with new commits; a merge
 * request merged or closed. Undefined for
 * everything else, which is answered 2xx and left alone.
 */
export function parseGitLabEvent(eventHeader: string | undefined, body: unknown): GitLabEvent | undefined {
  if (eventHeader === "Note Hook") {
    const parsed = NoteHook.safeParse(body);
    if (!parsed.success) return undefined;
    const p = parsed.data;
    const a = p.object_attributes;
    // GitLab ≥ 16.11 also sends edits (action "update"); earlier versions send no action at all.
    if (a.system || (a.action ?? "create") !== "create") return undefined;
    const noteable: Noteable | undefined =
      a.noteable_type === "MergeRequest" && p.merge_request
        ? { kind: "merge_request", iid: p.merge_request.iid }
        : a.noteable_type === "Issue" && p.issue
          ? { kind: "issue", iid: p.issue.iid }
          : undefined;
    if (!noteable) return undefined;
    return {
      kind: "note",
      project: projectRef(p.project),
      user: { id: p.user.id, username: p.user.username },
      noteable,
      noteId: a.id,
      text: a.note,
      ...(a.url ? { url: a.url } : {}),
    };
  }
  if (eventHeader === "Merge Request Hook") {
    const parsed = MergeRequestHook.safeParse(body);
    if (!parsed.success) return undefined;
    const a = parsed.data.object_attributes;
    const project = projectRef(parsed.data.project);
    if (a.action === "close" || a.action === "merge")
      return { kind: "merge_request_closed", project, iid: a.iid, sourceBranch: a.source_branch };
    const newCommits = a.action === "open" || a.action === "reopen" || (a.action === "update" && !!a.oldrev);
    if (a.state !== "opened" || !newCommits) return undefined;
    return {
      kind: "merge_request",
      project,
      iid: a.iid,
      headSha: a.last_commit.id,
      sourceBranch: a.source_branch,
      targetBranch: a.target_branch,
      ...(a.url ? { url: a.url } : {}),
    };
  }
  return undefined;
}
