/**
 * A job queue's backend (Redis) cannot be reached, so the job was not queued. The caller decides: tell
 * the user to try again, or retry itself (with the same jobId a retry never queues the job twice).
 */
export class JobQueueUnavailableError extends Error {
  override name = "JobQueueUnavailableError";
}
