import { randomUUID } from "node:crypto";
import picomatch from "picomatch";
import { type AppContext, withGitHost } from "../../app/context.js";
import { LAYOUT } from "../../app/layout.js";
import { review } from "../../app/review.js";
import { type GitLabApi, gitlabGitHost } from "../../store/githost/gitlab.js";
import type { ChangeFile } from "../../store/ports.js";
import { claimDelivery } from "../../store/repos/bot-deliveries.js";
import { reviewReport } from "../github/review-report.js";
import type { MergeRequestEvent } from "./events.js";
import { type BotUser, mergeRequestPaths, setCommitStatus } from "./project-api.js";
import { upsertStickyNote } from "./sticky-note.js";

/**
 * Merge requests that edit SLO specs, reviewed like plans: a queued job runs the `review` use case on the
 * specs as the merge request's head holds them (with their rule files), then sets the commit status
 * `slo-scout/review` on the head (success or failed, the summary's title as its description) and writes
 * the sticky "review" note with the summary and the blast radius. A merge request that touches no spec
 * gets neither.
 */

export const REVIEW_STATUS = "slo-scout/review";
export const REVIEW_SUBJECT = "review";
const JOB = "gitlab:review";
const SPEC_PATHS = ["slos/**/*.yml", "slos/**/*.yaml"];

export interface GitLabReviews {
  /** Queues the review of a merge request's head once; false when that head was queued before. */
  receive(event: MergeRequestEvent): Promise<boolean>;
}

export async function startGitLabReviews(
  app: AppContext,
  api: GitLabApi,
  me: () => Promise<BotUser>,
): Promise<GitLabReviews> {
  const queue = await app.queue();
  queue.process<MergeRequestEvent, void>(
    JOB,
    async (job) => {
      const event = job.data;
      try {
        await runReview(app, api, me, event);
      } catch (err) {
        const correlationId = randomUUID().slice(0, 8);
        app.logger.error(
          { err, correlationId, project: event.project.path, mr: event.iid },
          "spec review failed",
        );
        const reason = `the review failed unexpectedly (correlation id ${correlationId})`;
        await setCommitStatus(api, event.project.id, event.headSha, {
          state: "failed",
          name: REVIEW_STATUS,
          description: reason,
        }).catch(() => {});
        await upsertStickyNote(
          api,
          event.project.id,
          { kind: "merge_request", iid: event.iid },
          REVIEW_SUBJECT,
          `## SLO-Scout review\n\nThe review failed unexpectedly; the server log has the details under correlation id \`${correlationId}\`. Push again to retry.`,
          await me(),
        ).catch((e: unknown) =>
          app.logger.error({ err: e, correlationId }, "could not post the review failure"),
        );
      }
    },
    1,
  );
  return {
    async receive(event) {
      // A head is reviewed once: a redelivery, or an update that brought no new commit, starts nothing.
      const id = `${event.project.id}!${event.iid}@${event.headSha}`;
      if (!(await claimDelivery(app.sql, { host: JOB, id, now: app.now() }))) return false;
      await queue.add(JOB, event, { jobId: `${JOB}:${id}`, attempts: 1 });
      return true;
    },
  };
}

async function runReview(
  app: AppContext,
  api: GitLabApi,
  me: () => Promise<BotUser>,
  event: MergeRequestEvent,
): Promise<void> {
  const project = event.project.id;
  const changed = (await mergeRequestPaths(api, project, event.iid))
    .filter((p) => !p.deleted)
    .map((p) => p.path);
  const isSpec = picomatch(SPEC_PATHS, { dot: true });
  const specs = changed.filter((p) => isSpec(p)).sort();
  if (specs.length === 0) return;
  await setCommitStatus(api, project, event.headSha, {
    state: "running",
    name: REVIEW_STATUS,
    description: "reviewing the SLO specs",
  });
  const host = gitlabGitHost({ api, project, defaultBranch: event.project.defaultBranch });
  // The specs as the head holds them, with the rule files regeneration is compared against.
  const wanted = new Set([...specs, ...changed.filter((p) => p.startsWith("rules/"))]);
  for (const spec of specs) {
    const service = /^slos\/([a-z0-9][a-z0-9._-]*)\.ya?ml$/.exec(spec)?.[1];
    if (service) for (const p of [LAYOUT.rules(service), LAYOUT.ruleTests(service)]) wanted.add(p);
  }
  const files: ChangeFile[] = [];
  for (const path of [...wanted].sort()) {
    const content = await host.readFile(path, event.headSha);
    if (content !== undefined) files.push({ path, content });
  }
  const outcome = await review(withGitHost(app, host), files, { baseRef: event.targetBranch });
  const report = reviewReport(outcome, specs);
  await setCommitStatus(api, project, event.headSha, {
    state: report.conclusion === "success" ? "success" : "failed",
    name: REVIEW_STATUS,
    description: report.title,
    ...(event.url ? { targetUrl: event.url } : {}),
  });
  await upsertStickyNote(
    api,
    project,
    { kind: "merge_request", iid: event.iid },
    REVIEW_SUBJECT,
    `## SLO-Scout review\n\n${report.summary}`,
    await me(),
  );
}
