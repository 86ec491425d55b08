-- Analyses started through the REST API (POST /api/v1/analyses): the request, who asked, and where the job
-- stands. The job runs on the job queue; whichever process runs it writes its outcome here, so any API
-- process answers GET /api/v1/analyses/{id}.
CREATE TABLE analysis_jobs (
  id          text PRIMARY KEY,
  service     text NOT NULL,
  request     jsonb NOT NULL,
  actor       text NOT NULL,
  status      text NOT NULL,
  result      jsonb,
  refusal     jsonb,
  created_at  bigint NOT NULL,
  updated_at  bigint NOT NULL
);
CREATE INDEX analysis_jobs_created ON analysis_jobs (created_at DESC);
