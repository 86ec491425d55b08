import { resolve } from "node:path";
import { type Config, ConfigError } from "../../config.js";
import type { GitHost } from "../ports.js";
import { localGitHost } from "./local-git.js";

/**
 * Where approved changes go when no chat names a hosted repository: the GitLab project `GITLAB_PROJECT`
 * when one is configured, else a local git repository (`SLO_SCOUT_REPO`, created on first use). A chat
 * on GitHub or GitLab opens the host of the repository the conversation happens in instead.
 */
export async function openGitHost(
  config: Pick<Config, "SLO_SCOUT_REPO" | "GITLAB_HOST" | "GITLAB_TOKEN" | "GITLAB_PROJECT">,
): Promise<GitHost> {
  if (config.GITLAB_PROJECT) {
    if (!config.GITLAB_TOKEN)
      throw new ConfigError("config error: GITLAB_PROJECT needs GITLAB_TOKEN (a token with the api scope)");
    const { gitlabApi, gitlabGitHost } = await import("./gitlab.js");
    const api = gitlabApi({ host: config.GITLAB_HOST, token: config.GITLAB_TOKEN });
    return gitlabGitHost({ api, project: config.GITLAB_PROJECT });
  }
  return localGitHost({ dir: config.SLO_SCOUT_REPO });
}

/**
 * The repository a chat that lives outside any repository (Slack) opens its changes on. `name`
 * identifies it in the change locks, which every face shares, so an approval from the chat and one from
 * a pull request or merge request of the same repository and service cannot race.
 */
export interface ChangeRepository {
  name: string;
  /** A local repository has no "change closed" event to release a lock; its lock lasts while a job runs. */
  local: boolean;
  gitHost(): Promise<GitHost>;
  /** Closes a git host opened for this chat alone (the application's own is closed with the application). */
  close(): Promise<void>;
}

export interface ChangeRepositoryOpeners {
  /** The application's own git host (`openGitHost`), for an unset spec. */
  application: () => Promise<GitHost>;
  /**
   * A GitHub repository through the GitHub App's installation on it. Called at each use, so the
   * repository's own settings are read afresh; the caller keeps the App's authentication.
   */
  github: (repo: { owner: string; repo: string }) => Promise<GitHost>;
}

type RepositoryConfig = Pick<
  Config,
  | "SLO_SCOUT_REPO"
  | "GITLAB_PROJECT"
  | "GITLAB_HOST"
  | "GITLAB_TOKEN"
  | "APP_ID"
  | "PRIVATE_KEY"
  | "PRIVATE_KEY_PATH"
>;

/**
 * Chooses the repository for `spec` (`SLO_SCOUT_SLACK_REPO`): `github:<owner>/<repo>` through the GitHub
 * App, `gitlab:<project>` with GITLAB_TOKEN, or a local repository's directory; unset, the application's
 * own git host (GITLAB_PROJECT, else SLO_SCOUT_REPO). A spec the configuration cannot serve is refused
 * here, at start, with the key to set.
 */
export function changeRepository(
  spec: string | undefined,
  config: RepositoryConfig,
  openers: ChangeRepositoryOpeners,
  key = "SLO_SCOUT_SLACK_REPO",
): ChangeRepository {
  if (spec === undefined)
    return {
      name: config.GITLAB_PROJECT ?? `local:${resolve(config.SLO_SCOUT_REPO)}`,
      local: !config.GITLAB_PROJECT,
      gitHost: openers.application,
      close: async () => {},
    };
  if (spec.startsWith("github:")) {
    const [owner = "", repo = ""] = spec.slice("github:".length).split("/");
    if (!config.APP_ID || !(config.PRIVATE_KEY || config.PRIVATE_KEY_PATH))
      throw new ConfigError(
        `config error: ${key} ${spec} opens pull requests through the GitHub App installed on ${owner}/${repo}: set APP_ID and PRIVATE_KEY (or PRIVATE_KEY_PATH)`,
      );
    // The name GitHub's webhooks carry (`full_name`), so a pull request's approval shares the locks.
    return {
      name: `${owner}/${repo}`,
      local: false,
      gitHost: () => openers.github({ owner, repo }),
      close: async () => {},
    };
  }
  if (spec.startsWith("gitlab:")) {
    const project = spec.slice("gitlab:".length);
    const token = config.GITLAB_TOKEN;
    if (!token)
      throw new ConfigError(`config error: ${key} ${spec} needs GITLAB_TOKEN (a token with the api scope)`);
    return owned(project, false, async () => {
      const { gitlabApi, gitlabGitHost } = await import("./gitlab.js");
      return gitlabGitHost({ api: gitlabApi({ host: config.GITLAB_HOST, token }), project });
    });
  }
  const dir = resolve(spec);
  return owned(`local:${dir}`, true, async () => localGitHost({ dir }));
}

/** A git host opened on first use and closed with the chat. */
function owned(name: string, local: boolean, open: () => Promise<GitHost>): ChangeRepository {
  let pending: Promise<GitHost> | undefined;
  return {
    name,
    local,
    gitHost: () => {
      pending ??= open();
      return pending;
    },
    close: async () => {
      if (pending) await (await pending).close();
    },
  };
}
