import type { Config } from "../../config.js";
import type { GitHost } from "../ports.js";
import { localGitHost } from "./local-git.js";

/**
 * Where approved changes go when no chat names a hosted repository: a local git repository
 * (`SLO_SCOUT_REPO`, created on first use). The GitHub and GitLab adapters are chosen by the chat that
 * asks, since the repository is the one the conversation happens in.
 */
export async function openGitHost(config: Pick<Config, "SLO_SCOUT_REPO">): Promise<GitHost> {
  return localGitHost({ dir: config.SLO_SCOUT_REPO });
}
