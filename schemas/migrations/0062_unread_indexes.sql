-- Indexes nothing reads, which every row written paid for: metric_samples is written a row per sample
-- (100,000 a second at the soak's target) and applied_traces a row per trace. The newest sample time is
-- found through the primary key (series_id, time) instead, one index probe per series; applied_traces is
-- only ever looked up by trace_id. On PGlite the time index was about a tenth of a sample's insert.
DROP INDEX IF EXISTS metric_samples_time;
DROP INDEX IF EXISTS applied_traces_window;
