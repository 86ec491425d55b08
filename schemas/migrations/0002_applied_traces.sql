-- Traces the span stage has already folded into route/edge aggregates. A trace is assembled from spans
-- that may straddle a committed bus offset; after a restart the replayed spans re-form the trace, and this
-- table (written in the same transaction as the aggregates) keeps it from being counted twice.
CREATE TABLE applied_traces (
  trace_id     text PRIMARY KEY,
  window_start bigint NOT NULL
);
CREATE INDEX applied_traces_window ON applied_traces (window_start);
