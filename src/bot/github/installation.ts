import type { Probot } from "probot";
import type { Config } from "../../config.js";
import { ConfigFileError } from "../../core/config-file.js";
import type { GitHubApi } from "../../store/githost/github.js";
import type { GitHost } from "../../store/ports.js";
import { type Repo, readRepoConfig, repoGitHost } from "./api.js";
import { REPO_CONFIG_PATH } from "./repo-config.js";
import { probotFor } from "./route.js";

/**
 * A GitHub repository's git host for a face that has no webhook from it (Slack): the App authenticates
 * as itself, asks GitHub which installation covers the repository, and works through that installation's
 * Octokit (Probot's: tokens renewed before they expire, 5xx retried), with the repository's
 * `.github/slo-scout.yml` (labels, policy) read at each use, as a pull request's command would.
 */
export function githubInstallations(config: Config, log: Probot["log"]): (repo: Repo) => Promise<GitHost> {
  let probot: Probot | undefined;
  const installations = new Map<string, Promise<GitHubApi>>();
  const installationApi = (repo: Repo) => {
    const key = `${repo.owner}/${repo.repo}`;
    let api = installations.get(key);
    if (!api) {
      probot ??= probotFor(config, log);
      const app = probot;
      api = (async () => {
        const appApi = (await app.auth()) as unknown as GitHubApi;
        const { data } = await appApi
          .request("GET /repos/{owner}/{repo}/installation", { owner: repo.owner, repo: repo.repo })
          .catch((err: unknown) => {
            if ((err as { status?: number }).status === 404)
              throw new Error(`the GitHub App is not installed on ${key}; install it there first`);
            throw err;
          });
        return (await app.auth((data as { id: number }).id)) as unknown as GitHubApi;
      })();
      // A failed lookup (not installed yet, GitHub down) is tried again on the next use.
      api.catch(() => installations.delete(key));
      installations.set(key, api);
    }
    return api;
  };
  return async (repo) => {
    const api = await installationApi(repo);
    const config = await readRepoConfig(api, repo);
    if (!config.ok)
      throw new ConfigFileError(
        `${repo.owner}/${repo.repo}: ${REPO_CONFIG_PATH}`,
        config.line,
        config.message,
      );
    return repoGitHost(api, repo, config.config);
  };
}
