-- Capsule embeddings the external vector store (Milvus) did not take. The capsules themselves are already
-- stored; src/store/vectors/pending.ts queues their vectors here while the store is down and a retry loop
-- upserts them, oldest first, and deletes them once the store has them. A row replaced by a newer vector
-- for the same capsule gets a new queued_at, so a retry never deletes a vector it did not send.
CREATE TABLE pending_vectors (
  id           text PRIMARY KEY,
  service      text NOT NULL,
  window_start bigint NOT NULL,
  fingerprint  text NOT NULL,
  template     text NOT NULL,
  embedding    real[] NOT NULL,
  queued_at    bigint NOT NULL,
  attempts     integer NOT NULL DEFAULT 0,
  last_error   text
);
CREATE INDEX pending_vectors_queued ON pending_vectors (queued_at);
