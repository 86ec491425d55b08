-- Browser (RUM) events the stream stage has already added to web-vital and capsule windows, by an identity
-- derived from the event itself (service, Faro session, page, timestamp, name and values). Written in the
-- same transaction as the windows, so a replay of the same events — `slo-scout ingest --demo` run twice, a
-- Faro or collector retry, a spool replay — adds nothing the second time.
CREATE TABLE applied_rum (
  event_key    text PRIMARY KEY,
  window_start bigint NOT NULL
);
CREATE INDEX applied_rum_window ON applied_rum (window_start);
