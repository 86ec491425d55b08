-- Events of a service that arrived after their window closed: `corrected` ones (within CORRECTION_HORIZON)
-- were added to the stored window, `dropped` ones (beyond it) were not. Written in the stream stage's window
-- transaction, so each is counted once; analyze warns about a service's dropped events.
CREATE TABLE late_events (
  service         text PRIMARY KEY,
  dropped         bigint NOT NULL DEFAULT 0,
  corrected       bigint NOT NULL DEFAULT 0,
  last_dropped_at bigint,
  updated_at      bigint NOT NULL
);
