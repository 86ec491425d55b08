import { randomUUID } from "node:crypto";
import { parseWindowDays } from "../analysis/history.js";
import type { JobQueue } from "../store/ports.js";
import {
  type AnalysisJobRecord,
  getAnalysisJob,
  insertAnalysisJob,
  updateAnalysisJob,
} from "../store/repos/analysis-jobs.js";
import { getService } from "../store/repos/services.js";
import { type AnalyzeRequest, analyze } from "./analyze.js";
import type { AppContext } from "./context.js";
import { done, type Outcome, refuse } from "./outcome.js";
import type { Actor } from "./proposals.js";

/** The queue's job name for an analysis started through the API. */
export const ANALYSIS_JOB = "analysis";

/** What an analysis job is asked to do: `analyze`'s request without the in-process callbacks. */
export type AnalysisJobRequest = Omit<AnalyzeRequest, "onProgress">;

export type AnalysisJob = AnalysisJobRecord;

/**
 * Queues an analysis (the same use case as `analyze`) and returns at once with its id; the result is
 * read with `analysisJob`. An unknown service or a bad window is refused before anything is queued.
 */
export async function startAnalysis(
  app: AppContext,
  req: AnalysisJobRequest,
  by: Actor,
): Promise<Outcome<AnalysisJob>> {
  if (req.window !== undefined) {
    try {
      parseWindowDays(req.window);
    } catch (err) {
      return refuse("bad-request", (err as Error).message);
    }
  }
  if (!(await getService(app.sql, req.service)))
    return refuse("unknown-service", `no service named ${req.service} has sent telemetry`);
  const id = `ana-${randomUUID().replaceAll("-", "").slice(0, 16)}`;
  const now = app.now();
  await insertAnalysisJob(
    app.sql,
    { id, service: req.service, request: { ...req }, actor: `${by.source}:${by.login}` },
    now,
  );
  const queue = await app.queue();
  try {
    await queue.add(ANALYSIS_JOB, { id }, { jobId: id, attempts: 1 });
  } catch (err) {
    await updateAnalysisJob(
      app.sql,
      id,
      { status: "failed", refusal: { code: "internal", reason: "the job queue did not take the analysis" } },
      app.now(),
    );
    throw err;
  }
  return done((await getAnalysisJob(app.sql, id))!);
}

export async function analysisJob(app: AppContext, id: string): Promise<Outcome<AnalysisJob>> {
  const job = await getAnalysisJob(app.sql, id);
  return job ? done(job) : refuse("unknown-id", `no analysis ${id}`);
}

/**
 * Runs queued analyses in this process (one at a time: an analysis is CPU-bound and the embedded database
 * serves one query at a time). An outcome, a refusal or a failure is written to the job's row; a failure's
 * cause stays in the log under the job's id.
 */
export function runAnalysisJobs(app: AppContext, queue: JobQueue): void {
  queue.process<{ id: string }, void>(
    ANALYSIS_JOB,
    async (job) => {
      const { id } = job.data;
      const record = await getAnalysisJob(app.sql, id);
      if (record?.status !== "queued") return;
      await updateAnalysisJob(app.sql, id, { status: "running" }, app.now());
      try {
        const outcome = await analyze(app, record.request as unknown as AnalysisJobRequest);
        await updateAnalysisJob(
          app.sql,
          id,
          outcome.ok
            ? { status: "done", result: outcome.value }
            : { status: "refused", refusal: outcome.refusal },
          app.now(),
        );
      } catch (err) {
        app.logger.error({ err, analysis: id }, "analysis job failed");
        await updateAnalysisJob(
          app.sql,
          id,
          {
            status: "failed",
            refusal: {
              code: "internal",
              reason: `the analysis failed unexpectedly; the log has it under ${id}`,
            },
          },
          app.now(),
        );
      }
    },
    1,
  );
}
