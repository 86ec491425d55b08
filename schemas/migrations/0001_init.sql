-- SLO-Scout's relational store. The same file runs on PGlite and on Postgres/TimescaleDB: optional
-- extensions (pgvector, timescaledb) are switched on by the DO blocks at the end only where the server has
-- them. Times are bigint epoch milliseconds throughout, like the contracts in src/core.

CREATE TABLE services (
  name        text PRIMARY KEY,
  first_seen  bigint,
  last_seen   bigint,
  signals     jsonb NOT NULL DEFAULT '[]'
);

CREATE TABLE journeys (
  key         text PRIMARY KEY,
  service     text NOT NULL,
  data        jsonb NOT NULL,
  updated_at  bigint NOT NULL
);
CREATE INDEX journeys_service ON journeys (service);

CREATE TABLE slis (
  id          text PRIMARY KEY,
  journey     text NOT NULL,
  data        jsonb NOT NULL,
  updated_at  bigint NOT NULL
);
CREATE INDEX slis_journey ON slis (journey);

CREATE TABLE slos (
  id          text PRIMARY KEY,
  service     text NOT NULL,
  data        jsonb NOT NULL,
  updated_at  bigint NOT NULL
);
CREATE INDEX slos_service ON slos (service);

CREATE TABLE proposals (
  id          text PRIMARY KEY,
  service     text NOT NULL,
  journey     text NOT NULL,
  status      text NOT NULL,
  data        jsonb NOT NULL,
  created_at  bigint NOT NULL,
  updated_at  bigint NOT NULL
);
CREATE INDEX proposals_service ON proposals (service, created_at);

-- The evidence of each proposal, one row a pointer, so a reviewer can ask which proposals cite a capsule.
CREATE TABLE evidence (
  proposal_id text NOT NULL REFERENCES proposals (id) ON DELETE CASCADE,
  position    integer NOT NULL,
  kind        text NOT NULL,
  ref         text NOT NULL,
  range_start bigint,
  range_end   bigint,
  note        text,
  PRIMARY KEY (proposal_id, position)
);
CREATE INDEX evidence_ref ON evidence (kind, ref);

CREATE TABLE artifacts (
  proposal_id text NOT NULL,
  path        text NOT NULL,
  kind        text NOT NULL,
  service     text NOT NULL,
  slo_id      text,
  content     text NOT NULL,
  validation  jsonb,
  created_at  bigint NOT NULL,
  PRIMARY KEY (proposal_id, path)
);

CREATE TABLE jobs (
  id          text PRIMARY KEY,
  name        text NOT NULL,
  status      text NOT NULL,
  data        jsonb NOT NULL DEFAULT '{}',
  result      jsonb,
  error       text,
  attempts    integer NOT NULL DEFAULT 0,
  created_at  bigint NOT NULL,
  updated_at  bigint NOT NULL
);
CREATE INDEX jobs_status ON jobs (status, created_at);

CREATE TABLE audit_log (
  id          bigserial PRIMARY KEY,
  at          bigint NOT NULL,
  actor       text NOT NULL,
  action      text NOT NULL,
  subject     text,
  -- Where the command came from (github, gitlab, slack, cli, api) and which chat: PR/MR URL or channel.
  source      text NOT NULL,
  chat        text,
  details     jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_subject ON audit_log (subject, at);

-- One row per (service, fingerprint, hour window). The stream stage writes the window's absolute state,
-- so re-processing replaces a row instead of adding to it.
CREATE TABLE capsules (
  service         text NOT NULL,
  fingerprint     text NOT NULL,
  window_start    bigint NOT NULL,
  template        text NOT NULL,
  count           bigint NOT NULL,
  severity_counts jsonb NOT NULL,
  first_seen      bigint NOT NULL,
  last_seen       bigint NOT NULL,
  samples         jsonb NOT NULL DEFAULT '[]',
  blob_ref        text,
  updated_at      bigint NOT NULL,
  PRIMARY KEY (service, fingerprint, window_start)
);
CREATE INDEX capsules_service_window ON capsules (service, window_start);
CREATE INDEX capsules_window ON capsules (window_start);

-- embedding becomes vector(384) with an HNSW index where pgvector exists (see the end of this file);
-- elsewhere it stays real[] and the store searches exactly.
CREATE TABLE capsule_vectors (
  id            text PRIMARY KEY,
  service       text NOT NULL,
  window_start  bigint NOT NULL,
  fingerprint   text NOT NULL,
  template      text NOT NULL,
  embedding     real[] NOT NULL
);
CREATE INDEX capsule_vectors_service_window ON capsule_vectors (service, window_start);

-- The fingerprinter's template tree per service, so a restart renumbers nothing.
CREATE TABLE fingerprint_state (
  service     text PRIMARY KEY,
  state       jsonb NOT NULL,
  updated_at  bigint NOT NULL
);

CREATE TABLE metric_series (
  series_id   text PRIMARY KEY,
  name        text NOT NULL,
  labels      jsonb NOT NULL
);
CREATE INDEX metric_series_name ON metric_series (name);

CREATE TABLE metric_samples (
  series_id   text NOT NULL,
  time        bigint NOT NULL,
  value       double precision NOT NULL,
  PRIMARY KEY (series_id, time)
);
CREATE INDEX metric_samples_time ON metric_samples (time);

CREATE TABLE route_stats (
  journey_key   text NOT NULL,
  window_start  bigint NOT NULL,
  service       text NOT NULL,
  method        text,
  route         text,
  operation     text NOT NULL,
  requests      bigint NOT NULL,
  errors        bigint NOT NULL,
  client_errors bigint NOT NULL,
  from_browser  bigint NOT NULL,
  latency       jsonb NOT NULL,
  PRIMARY KEY (journey_key, window_start)
);
CREATE INDEX route_stats_service_window ON route_stats (service, window_start);
CREATE INDEX route_stats_window ON route_stats (window_start);

CREATE TABLE edge_stats (
  journey_key   text NOT NULL,
  from_service  text NOT NULL,
  to_service    text NOT NULL,
  operation     text NOT NULL,
  window_start  bigint NOT NULL,
  calls         bigint NOT NULL,
  errors        bigint NOT NULL,
  latency       jsonb NOT NULL,
  PRIMARY KEY (journey_key, from_service, to_service, operation, window_start)
);
CREATE INDEX edge_stats_window ON edge_stats (window_start);

CREATE TABLE example_traces (
  journey_key   text NOT NULL,
  window_start  bigint NOT NULL,
  trace_id      text NOT NULL,
  spans         jsonb NOT NULL,
  PRIMARY KEY (journey_key, window_start, trace_id)
);
CREATE INDEX example_traces_window ON example_traces (window_start);

CREATE TABLE web_vital_stats (
  service       text NOT NULL,
  page          text NOT NULL,
  metric        text NOT NULL,
  window_start  bigint NOT NULL,
  count         bigint NOT NULL,
  histogram     jsonb NOT NULL,
  PRIMARY KEY (service, page, metric, window_start)
);
CREATE INDEX web_vital_stats_window ON web_vital_stats (window_start);

-- Written in the same transaction as the window state it covers, so a consumer resuming from here
-- neither loses nor double-applies a batch.
CREATE TABLE consumer_offsets (
  group_id    text NOT NULL,
  topic       text NOT NULL,
  partition   integer NOT NULL,
  next_offset bigint NOT NULL,
  updated_at  bigint NOT NULL,
  PRIMARY KEY (group_id, topic, partition)
);

CREATE TABLE window_watermarks (
  stage       text NOT NULL,
  key         text NOT NULL,
  watermark   bigint NOT NULL,
  updated_at  bigint NOT NULL,
  PRIMARY KEY (stage, key)
);

-- pgvector: switch the embedding column to vector(384) with an HNSW cosine index where the server has it.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector') THEN
    BEGIN
      EXECUTE 'CREATE EXTENSION IF NOT EXISTS vector';
      EXECUTE 'ALTER TABLE capsule_vectors ALTER COLUMN embedding TYPE vector(384) USING embedding::vector(384)';
      EXECUTE 'CREATE INDEX capsule_vectors_embedding ON capsule_vectors USING hnsw (embedding vector_cosine_ops)';
    EXCEPTION WHEN OTHERS THEN
      RAISE NOTICE 'pgvector is available but could not be enabled (%); capsule_vectors uses exact search', SQLERRM;
    END;
  END IF;
END
$$;

-- TimescaleDB: time tables become hypertables (integer time in ms) where the extension can be created.
DO $$
DECLARE
  t record;
BEGIN
  IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb') THEN
    BEGIN
      EXECUTE 'CREATE EXTENSION IF NOT EXISTS timescaledb';
      FOR t IN SELECT * FROM (VALUES
        ('metric_samples', 'time', 86400000::bigint),
        ('capsules', 'window_start', 604800000::bigint),
        ('route_stats', 'window_start', 604800000::bigint),
        ('edge_stats', 'window_start', 604800000::bigint),
        ('example_traces', 'window_start', 604800000::bigint),
        ('web_vital_stats', 'window_start', 604800000::bigint)
      ) AS v(tbl, col, chunk)
      LOOP
        EXECUTE format('SELECT create_hypertable(%L, %L, chunk_time_interval => %s, if_not_exists => true)',
          t.tbl, t.col, t.chunk);
      END LOOP;
    EXCEPTION WHEN OTHERS THEN
      RAISE NOTICE 'timescaledb is available but could not be enabled (%); time tables stay plain', SQLERRM;
    END;
  END IF;
END
$$;
