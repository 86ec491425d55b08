import { parseCommand } from "../../app/command-language.js";
import { type AppContext, withGitHost } from "../../app/context.js";
import type { Actor } from "../../app/proposals.js";
import { editNote, type GitLabApi, gitlabGitHost, type Noteable } from "../../store/githost/gitlab.js";
import type { ChatHost, ChatRequest } from "../chat-jobs.js";
import { commandLines } from "../comment-commands.js";
import { stickySubject, withSticky } from "../sticky.js";
import type { GitLabProjectRef, NoteEvent } from "./events.js";
import { ACCESS, accessLevel, awardNoteEmoji, type BotUser } from "./project-api.js";
import { upsertStickyNote } from "./sticky-note.js";

/** Where a command was typed: the project, the merge request or issue, the note, and who wrote it. */
export interface GitLabThread {
  project: GitLabProjectRef;
  noteable: Noteable;
  noteId: number;
  userId: number;
}

/** The sticky note a command's answer goes to. */
export interface GitLabReply {
  commentId: string;
}

/** Commands that change something: GitLab asks for Developer access (push rights) for them. */
const DECISIONS = new Set(["approve", "reject"]);

/**
 * GitLab as a chat host of the shared runner: 👀 on the command's note, one sticky note per (merge
 * request or issue, subject) edited in place, jobs run against the project's repository through the
 * GitLab git host, and decisions reserved to members with Developer access or more (the policy's
 * approvers are checked after that by the approve use case).
 */
export function gitlabChatHost(
  app: AppContext,
  api: GitLabApi,
  me: () => Promise<BotUser>,
): ChatHost<GitLabThread, GitLabReply> {
  const contexts = new Map<number, AppContext>();
  return {
    name: "gitlab",

    async acknowledge(request, running) {
      const { project, noteable, noteId } = request.thread;
      // The 👀 is a courtesy; the sticky note is the answer, so a failed award does not stop the command.
      await awardNoteEmoji(api, project.id, noteable, noteId, "eyes").catch((err: unknown) =>
        app.logger.warn({ err, project: project.path }, "could not award 👀 on a GitLab note"),
      );
      const bot = await me();
      return {
        commentId: await upsertStickyNote(api, project.id, noteable, running.subject, running.markdown, bot),
      };
    },

    async publish(request, reply, message) {
      await editNote(
        api,
        request.thread.project.id,
        reply.commentId,
        withSticky(message.subject, message.markdown),
      );
    },

    async context(request) {
      const { project } = request.thread;
      let ctx = contexts.get(project.id);
      if (!ctx) {
        const host = gitlabGitHost({ api, project: project.id, defaultBranch: project.defaultBranch });
        ctx = withGitHost(app, host);
        contexts.set(project.id, ctx);
      }
      return ctx;
    },

    async authorize(request) {
      const parsed = parseCommand(request.text);
      if (!parsed.ok || !DECISIONS.has(parsed.command.verb)) return undefined;
      const level = await accessLevel(api, request.thread.project.id, request.thread.userId);
      if (level >= ACCESS.developer) return undefined;
      return {
        code: "unauthorized",
        reason: `${parsed.command.verb} needs Developer access or more to ${request.thread.project.path}; @${request.actor.login} has ${levelName(level)}`,
      };
    },
  };
}

/** The chat requests of a note: one per `/slo-scout` line, none for the bot's own notes. */
export function noteRequests(event: NoteEvent, bot: BotUser): ChatRequest<GitLabThread>[] {
  if (event.user.id === bot.id || stickySubject(event.text) !== undefined) return [];
  const where = event.noteable.kind === "merge_request" ? "!" : "#";
  const actor: Actor = {
    login: event.user.username,
    source: "gitlab",
    chat: event.url ?? `${event.project.path}${where}${event.noteable.iid}`,
  };
  const thread: GitLabThread = {
    project: event.project,
    noteable: event.noteable,
    noteId: event.noteId,
    userId: event.user.id,
  };
  const lock = {
    repository: event.project.path,
    owner: `gitlab:${event.project.path}${where}${event.noteable.iid}`,
  };
  return commandLines(event.text).map((text) => ({ text, actor, thread, lock }));
}

function levelName(level: number): string {
  const found = Object.entries(ACCESS).find(([, v]) => v === level);
  if (!found || level === ACCESS.none) return "no access";
  const name = found[0];
  return `${name[0]!.toUpperCase()}${name.slice(1)} access`;
}
