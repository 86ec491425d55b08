import picomatch from "picomatch";
import type { Probot } from "probot";
import type { AppContext } from "../../app/context.js";
import { LAYOUT } from "../../app/layout.js";
import { review } from "../../app/review.js";
import type { GitHubApi } from "../../store/githost/github.js";
import type { ChangeFile } from "../../store/ports.js";
import { claimDelivery } from "../../store/repos/bot-deliveries.js";
import { type Repo, repoGitHost, upsertSticky } from "./api.js";
import type { RepoConfig } from "./repo-config.js";
import { reviewReport } from "./review-report.js";

/**
 * Spec pull requests reviewed the way Atlantis plans Terraform: when a pull request that touches SLO
 * specs is opened or pushed to (or someone comments `/slo-scout plan`, or re-runs the check), a queued job
 * runs the `review` use case on the specs as the head holds them (with their rule files), and publishes a
 * Check Run with annotations at file:line and the sticky "review" comment with the blast radius.
 */

export const CHECK_NAME = "SLO-Scout review";
export const REVIEW_SUBJECT = "review";
const JOB = "github:review";

export interface ReviewRequest extends Repo {
  installationId: number;
  pull: number;
  config: RepoConfig;
  /** Answered even when the pull request touches no spec (someone asked). */
  asked: boolean;
}

interface PullRequest {
  number: number;
  html_url: string;
  head: { sha: string; ref: string };
  base: { sha: string };
}

export interface ReviewJobs {
  /** Queues the review once per delivery; false for a redelivery. */
  receive(delivery: string, request: ReviewRequest): Promise<boolean>;
}

export async function startReviewJobs(app: AppContext, probot: Probot): Promise<ReviewJobs> {
  const queue = await app.queue();
  queue.process<ReviewRequest, void>(
    JOB,
    async (job) => {
      const req = job.data;
      const api = (await probot.auth(req.installationId)) as unknown as GitHubApi;
      try {
        await runReview(app, api, req);
      } catch (err) {
        const correlationId = job.id.slice(-8);
        app.logger.error({ err, correlationId, pull: req.pull }, "spec review failed");
        await upsertSticky(
          api,
          req,
          req.pull,
          REVIEW_SUBJECT,
          `### SLO-Scout review failed\n\nThe review failed unexpectedly; the server log has the details under correlation id \`${correlationId}\`. Comment \`/slo-scout plan\` to try again.`,
        );
      }
    },
    1,
  );
  return {
    async receive(delivery, request) {
      if (!(await claimDelivery(app.sql, { host: JOB, id: delivery, now: app.now() }))) return false;
      await queue.add(JOB, request, { jobId: `${JOB}:${delivery}`, attempts: 1 });
      return true;
    },
  };
}

async function runReview(app: AppContext, api: GitHubApi, req: ReviewRequest): Promise<void> {
  const repo = { owner: req.owner, repo: req.repo };
  const { data: pr } = (await api.request("GET /repos/{owner}/{repo}/pulls/{pull_number}", {
    ...repo,
    pull_number: req.pull,
  })) as { data: PullRequest };
  const host = repoGitHost(api, repo, req.config);
  const changed = await changedFiles(api, repo, pr.number);
  const isSpec = picomatch(req.config.specPaths, { dot: true });
  const specs = changed.filter((p) => isSpec(p));
  if (specs.length === 0) {
    if (req.asked) {
      await upsertSticky(
        api,
        repo,
        pr.number,
        REVIEW_SUBJECT,
        `### SLO-Scout review\n\nThis pull request changes no SLO spec (spec paths: ${req.config.specPaths.map((p) => `\`${p}\``).join(", ")}).`,
      );
    }
    return;
  }
  // The specs as the head holds them, with the rule files regeneration is compared against.
  const wanted = new Set([...specs, ...changed.filter((p) => p.startsWith("rules/"))]);
  for (const spec of specs) {
    const service = /^slos\/([a-z0-9][a-z0-9._-]*)\.ya?ml$/.exec(spec)?.[1];
    if (service) for (const p of [LAYOUT.rules(service), LAYOUT.ruleTests(service)]) wanted.add(p);
  }
  const files: ChangeFile[] = [];
  for (const path of [...wanted].sort()) {
    const content = await host.readFile(path, pr.head.sha);
    if (content !== undefined) files.push({ path, content });
  }
  const outcome = await review({ ...app, gitHost: async () => host }, files, { baseRef: pr.base.sha });
  const report = reviewReport(outcome, specs);
  await api.request("POST /repos/{owner}/{repo}/check-runs", {
    ...repo,
    name: CHECK_NAME,
    head_sha: pr.head.sha,
    status: "completed",
    conclusion: report.conclusion,
    output: { title: report.title, summary: report.summary, annotations: report.annotations },
  });
  await upsertSticky(api, repo, pr.number, REVIEW_SUBJECT, `## SLO-Scout review\n\n${report.summary}`);
}

/** Paths a pull request adds or modifies (removed files have nothing to review). */
async function changedFiles(api: GitHubApi, repo: Repo, pull: number): Promise<string[]> {
  const out: string[] = [];
  for (let page = 1; page <= 30; page++) {
    const { data } = await api.request("GET /repos/{owner}/{repo}/pulls/{pull_number}/files", {
      ...repo,
      pull_number: pull,
      per_page: 100,
      page,
    });
    const files = data as { filename: string; status: string }[];
    out.push(...files.filter((f) => f.status !== "removed").map((f) => f.filename));
    if (files.length < 100) break;
  }
  return out.sort();
}
