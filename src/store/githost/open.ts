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
