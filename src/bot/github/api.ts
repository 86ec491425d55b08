import { parsePolicy } from "../../governance/policy.js";
import type { GitHubApi } from "../../store/githost/github.js";
import { githubGitHost } from "../../store/githost/github.js";
import type { GitHost } from "../../store/ports.js";
import { findSticky, withSticky } from "../sticky.js";
import {
  DEFAULT_REPO_CONFIG,
  type ParsedRepoConfig,
  parseRepoConfig,
  REPO_CONFIG_PATH,
  type RepoConfig,
} from "./repo-config.js";

/**
 * The GitHub calls the bot makes besides the git host's: the repository's SLO-Scout config, reactions,
 * sticky comments, collaborator permission. Each takes the installation's Octokit (Probot's).
 */

export interface Repo {
  owner: string;
  repo: string;
}

/** Only the repository's fields: Octokit sends any other field of a wider object as a parameter. */
const at = (r: Repo): Repo => ({ owner: r.owner, repo: r.repo });

/** `.github/slo-scout.yml` on the default branch; the defaults when the file does not exist. */
export async function readRepoConfig(api: GitHubApi, repo: Repo): Promise<ParsedRepoConfig> {
  const text = await githubGitHost({ api, ...at(repo) }).readFile(REPO_CONFIG_PATH);
  return text === undefined ? { ok: true, config: DEFAULT_REPO_CONFIG } : parseRepoConfig(text);
}

/** The repository's git host, with its config's labels and policy. */
export function repoGitHost(api: GitHubApi, repo: Repo, config: RepoConfig): GitHost {
  return githubGitHost({
    api,
    ...at(repo),
    labels: config.labels,
    ...(config.policy
      ? {
          policy: {
            policy: parsePolicy(JSON.stringify(config.policy), REPO_CONFIG_PATH),
            source: REPO_CONFIG_PATH,
          },
        }
      : {}),
  });
}

export async function react(api: GitHubApi, repo: Repo, commentId: number, content: "eyes" | "confused") {
  await api.request("POST /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions", {
    ...at(repo),
    comment_id: commentId,
    content,
  });
}

interface IssueComment {
  id: number;
  body?: string | null;
  user: { type: string } | null;
}

/** Pages of a thread's comments looked through for a sticky reply (100 each). */
const MAX_COMMENT_PAGES = 10;

/**
 * Writes the sticky reply of `subject` on an issue or pull request: edits the bot's comment carrying the
 * subject's marker, or posts one. Returns the comment's id.
 */
export async function upsertSticky(
  api: GitHubApi,
  repo: Repo,
  issue: number,
  subject: string,
  body: string,
): Promise<number> {
  const text = withSticky(subject, body);
  for (let page = 1; page <= MAX_COMMENT_PAGES; page++) {
    const { data } = await api.request("GET /repos/{owner}/{repo}/issues/{issue_number}/comments", {
      ...at(repo),
      issue_number: issue,
      per_page: 100,
      page,
    });
    const comments = data as IssueComment[];
    const found = findSticky(comments, subject, (c) => c.user?.type === "Bot");
    if (found) {
      await editComment(api, repo, found.id, subject, body);
      return found.id;
    }
    if (comments.length < 100) break;
  }
  const { data } = await api.request("POST /repos/{owner}/{repo}/issues/{issue_number}/comments", {
    ...at(repo),
    issue_number: issue,
    body: text,
  });
  return (data as { id: number }).id;
}

export async function editComment(
  api: GitHubApi,
  repo: Repo,
  commentId: number,
  subject: string,
  body: string,
) {
  await api.request("PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}", {
    ...at(repo),
    comment_id: commentId,
    body: withSticky(subject, body),
  });
}

/** The user's permission on the repository as GitHub says: admin, write (maintainers too), read or none. */
export async function permissionOf(api: GitHubApi, repo: Repo, login: string): Promise<string> {
  try {
    const { data } = await api.request("GET /repos/{owner}/{repo}/collaborators/{username}/permission", {
      ...at(repo),
      username: login,
    });
    return (data as { permission: string }).permission;
  } catch (err) {
    // Someone who is not a collaborator at all: GitHub answers 404.
    if (typeof err === "object" && err !== null && (err as { status?: number }).status === 404) return "none";
    throw err;
  }
}
