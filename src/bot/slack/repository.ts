import { resolve } from "node:path";
import type { AppContext } from "../../app/context.js";
import { type Config, ConfigError } from "../../config.js";
import type { GitHost } from "../../store/ports.js";

/**
 * The repository a Slack approval opens its change on: `SLO_SCOUT_SLACK_REPO` (`gitlab:<project>`, a local
 * directory) or, when unset, the application's own git host (GITLAB_PROJECT or SLO_SCOUT_REPO). `name`
 * identifies it in the change locks, which every face shares, so a Slack approval and a merge-request
 * approval of the same service cannot race.
 */
export interface SlackRepository {
  name: string;
  /** A local repository has no "change closed" event to release a lock; its lock lasts while a job runs. */
  local: boolean;
  gitHost(): Promise<GitHost>;
  /** Closes a git host opened for Slack alone (the application's own is closed with the application). */
  close(): Promise<void>;
}

type RepoConfig = Pick<
  Config,
  "SLO_SCOUT_SLACK_REPO" | "SLO_SCOUT_REPO" | "GITLAB_PROJECT" | "GITLAB_HOST" | "GITLAB_TOKEN"
>;

export function slackRepository(config: RepoConfig, app: AppContext): SlackRepository {
  const spec = config.SLO_SCOUT_SLACK_REPO;
  if (spec === undefined) {
    return config.GITLAB_PROJECT
      ? { name: config.GITLAB_PROJECT, local: false, gitHost: () => app.gitHost(), close: async () => {} }
      : {
          name: `local:${resolve(config.SLO_SCOUT_REPO)}`,
          local: true,
          gitHost: () => app.gitHost(),
          close: async () => {},
        };
  }
  if (spec.startsWith("gitlab:")) {
    const project = spec.slice("gitlab:".length);
    const token = config.GITLAB_TOKEN;
    if (!token)
      throw new ConfigError(
        `config error: SLO_SCOUT_SLACK_REPO ${spec} needs GITLAB_TOKEN (a token with the api scope)`,
      );
    return owned(project, false, async () => {
      const { gitlabApi, gitlabGitHost } = await import("../../store/githost/gitlab.js");
      return gitlabGitHost({ api: gitlabApi({ host: config.GITLAB_HOST, token }), project });
    });
  }
  if (spec.startsWith("github:"))
    throw new ConfigError(
      `config error: SLO_SCOUT_SLACK_REPO ${spec}: GitHub repositories are not available to Slack yet; use gitlab:<project> or a local directory`,
    );
  const dir = resolve(spec);
  return owned(`local:${dir}`, true, async () => {
    const { localGitHost } = await import("../../store/githost/local-git.js");
    return localGitHost({ dir });
  });
}

/** A git host opened on first use and closed with the Slack app. */
function owned(name: string, local: boolean, open: () => Promise<GitHost>): SlackRepository {
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
