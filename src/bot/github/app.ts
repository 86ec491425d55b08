import type { ApplicationFunction, Context, Probot } from "probot";
import { parseCommand } from "../../app/command-language.js";
import type { AppContext } from "../../app/context.js";
import type { GitHubApi } from "../../store/githost/github.js";
import { releaseBranchLocks } from "../../store/repos/change-locks.js";
import { type ChatHost, type ChatJobs, type ChatRequest, servicesOf, startChatJobs } from "../chat-jobs.js";
import { commandLines } from "../comment-commands.js";
import {
  editComment,
  permissionOf,
  type Repo,
  react,
  readRepoConfig,
  repoGitHost,
  upsertSticky,
} from "./api.js";
import { REPO_CONFIG_PATH, type RepoConfig } from "./repo-config.js";
import { CHECK_NAME, type ReviewJobs, startReviewJobs } from "./review-jobs.js";

/**
 * The GitHub App (Probot): `/slo-scout …` comments on issues and pull requests run through the shared
 * chat-job runner (👀 at once, one sticky reply per thread and service edited in place); approvals need
 * write access to the repository (and the policy's approvers, checked by `approve` itself); pull requests
 * that touch SLO specs are reviewed (`review-jobs.ts`); a closed pull request releases its change lock.
 * Comments by bots (ours included), edits and deletions start nothing.
 */

/** Where a command was typed: JSON, queued with the job. */
export interface GitHubThread extends Repo {
  installationId: number;
  issue: number;
  /** The triggering comment, reacted to. */
  commentId: number;
  config: RepoConfig;
}

export interface GitHubReply {
  commentId: number;
}

const WRITE = new Set(["admin", "write", "maintain"]);
const DECISIONS = new Set(["approve", "reject"]);
const PLAN = /^[/@]slo-scout\s+plan\s*$/i;

export function githubChatHost(app: AppContext, probot: Probot): ChatHost<GitHubThread, GitHubReply> {
  const api = async (t: GitHubThread) => (await probot.auth(t.installationId)) as unknown as GitHubApi;
  return {
    name: "github",
    async acknowledge(request, running) {
      const t = request.thread;
      const octokit = await api(t);
      const [, commentId] = await Promise.all([
        react(octokit, t, t.commentId, "eyes"),
        upsertSticky(octokit, t, t.issue, running.subject, running.markdown),
      ]);
      return { commentId };
    },
    async publish(request, reply, message) {
      const t = request.thread;
      const octokit = await api(t);
      await editComment(octokit, t, reply.commentId, message.subject, message.markdown);
      // A change SLO-Scout opened was validated before it was committed: its head gets the passing check.
      for (const view of message.reply?.views ?? []) {
        if (view.kind !== "change") continue;
        const { data } = await octokit.request("GET /repos/{owner}/{repo}/git/ref/{ref}", {
          owner: t.owner,
          repo: t.repo,
          ref: `heads/${view.branch}`,
        });
        await octokit.request("POST /repos/{owner}/{repo}/check-runs", {
          owner: t.owner,
          repo: t.repo,
          name: CHECK_NAME,
          head_sha: (data as { object: { sha: string } }).object.sha,
          status: "completed",
          conclusion: "success",
          output: {
            title: `Validated before commit: ${view.files.total} files, ${view.alerts.added} alerts added`,
            summary: message.markdown.slice(0, 60_000),
          },
        });
      }
    },
    async authorize(request, ctx) {
      const parsed = parseCommand(request.text);
      if (!parsed.ok) return undefined;
      const t = request.thread;
      const services = t.config.services;
      if (services.length > 0) {
        const foreign = (await servicesOf(ctx, request.text)).filter((s) => !services.includes(s));
        if (foreign.length > 0)
          return {
            code: "unknown-service",
            reason: `${foreign.join(", ")} ${foreign.length === 1 ? "is not a service" : "are not services"} of ${t.owner}/${t.repo}; ${REPO_CONFIG_PATH} maps ${services.join(", ")} here`,
          };
      }
      if (!DECISIONS.has(parsed.command.verb)) return undefined;
      const permission = await permissionOf(await api(t), t, request.actor.login);
      if (WRITE.has(permission)) return undefined;
      return {
        code: "unauthorized",
        reason: `${request.actor.login} has ${permission} access to ${t.owner}/${t.repo}; to ${parsed.command.verb} a proposal you need write access to the repository`,
      };
    },
    async context(request) {
      const t = request.thread;
      const host = repoGitHost(await api(t), t, t.config);
      return { ...app, gitHost: async () => host };
    },
  };
}

export interface GitHubBot {
  appFn: ApplicationFunction;
}

/** The Probot application function, with its chat and review jobs registered on the app's queue. */
export async function githubBot(app: AppContext, probot: Probot): Promise<GitHubBot> {
  const chats = await startChatJobs(app, githubChatHost(app, probot));
  const reviews = await startReviewJobs(app, probot);
  const appFn: ApplicationFunction = (bot) => {
    bot.on("issue_comment.created", (context) => onComment(app, chats, reviews, context));
    bot.on(["pull_request.opened", "pull_request.synchronize", "pull_request.reopened"], async (context) => {
      const { pull_request: pr, repository, installation, sender } = context.payload;
      // Our own pull requests were validated before they were opened.
      if (sender.type === "Bot" || !installation) return;
      const repo = { owner: repository.owner.login, repo: repository.name };
      const config = await readRepoConfig(context.octokit as unknown as GitHubApi, repo);
      if (!config.ok) return configError(context.octokit as unknown as GitHubApi, repo, pr.number, config);
      await reviews.receive(context.id, {
        ...repo,
        installationId: installation.id,
        pull: pr.number,
        config: config.config,
        asked: false,
      });
    });
    bot.on("check_run.rerequested", async (context) => {
      const { check_run: run, repository, installation } = context.payload;
      const pull = run.pull_requests[0];
      if (!installation || !pull || run.name !== CHECK_NAME) return;
      const repo = { owner: repository.owner.login, repo: repository.name };
      const config = await readRepoConfig(context.octokit as unknown as GitHubApi, repo);
      if (!config.ok) return;
      await reviews.receive(context.id, {
        ...repo,
        installationId: installation.id,
        pull: pull.number,
        config: config.config,
        asked: true,
      });
    });
    bot.on("pull_request.closed", async (context) => {
      const { pull_request: pr, repository } = context.payload;
      const released = await releaseBranchLocks(app.sql, {
        repository: repository.full_name,
        branch: pr.head.ref,
      });
      if (released.length > 0)
        context.log.info(
          { repository: repository.full_name, branch: pr.head.ref, released },
          "change locks released",
        );
    });
    bot.on("installation", async (context) => {
      const { action, installation } = context.payload;
      context.log.info(
        {
          action,
          installation: installation.id,
          account:
            installation.account && "login" in installation.account
              ? installation.account.login
              : installation.account?.slug,
        },
        "installation",
      );
    });
  };
  return { appFn };
}

async function onComment(
  app: AppContext,
  chats: ChatJobs<GitHubThread>,
  reviews: ReviewJobs,
  context: Context<"issue_comment.created">,
): Promise<void> {
  const { comment, issue, repository, sender, installation } = context.payload;
  if (sender.type === "Bot" || comment.user?.type === "Bot" || !installation) return;
  const lines = commandLines(comment.body);
  if (lines.length === 0) return;
  const api = context.octokit as unknown as GitHubApi;
  const repo = { owner: repository.owner.login, repo: repository.name };
  const config = await readRepoConfig(api, repo);
  if (!config.ok) {
    await react(api, repo, comment.id, "confused");
    return configError(api, repo, issue.number, config);
  }
  const thread: GitHubThread = {
    ...repo,
    installationId: installation.id,
    issue: issue.number,
    commentId: comment.id,
    config: config.config,
  };
  const plan = lines.some((l) => PLAN.test(l));
  if (plan) {
    await react(api, repo, comment.id, "eyes");
    if (issue.pull_request) {
      await reviews.receive(context.id, {
        ...repo,
        installationId: installation.id,
        pull: issue.number,
        config: config.config,
        asked: true,
      });
    } else {
      await upsertSticky(
        api,
        repo,
        issue.number,
        "review",
        "`/slo-scout plan` reviews the SLO specs of a pull request; comment it on one.",
      );
    }
  }
  const requests: ChatRequest<GitHubThread>[] = lines
    .filter((l) => !PLAN.test(l))
    .map((text) => ({
      text,
      actor: { login: sender.login, source: "github", chat: issue.html_url },
      thread,
      lock: { repository: repository.full_name, owner: `github:${repository.full_name}#${issue.number}` },
    }));
  if (requests.length > 0) await chats.receive(context.id, requests);
  app.logger.debug({ delivery: context.id, commands: lines.length }, "github comment handled");
}

async function configError(
  api: GitHubApi,
  repo: Repo,
  issue: number,
  config: { line: number; message: string },
): Promise<void> {
  await upsertSticky(
    api,
    repo,
    issue,
    "config",
    [
      "## SLO-Scout: the repository config is not valid",
      "",
      `\`${REPO_CONFIG_PATH}\` line ${config.line}: ${config.message}`,
      "",
      `Fix ${REPO_CONFIG_PATH} on the default branch and comment again; nothing ran.`,
    ].join("\n"),
  );
}
