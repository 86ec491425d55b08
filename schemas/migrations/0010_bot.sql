-- Webhook deliveries a bot has started work for, keyed by the host's delivery id (GitHub's
-- X-GitHub-Delivery, GitLab's Idempotency-Key, Slack's retried envelope): a redelivery or a retry of one
-- starts nothing. Rows older than a week are pruned as new ones arrive; hosts redeliver within hours.
CREATE TABLE bot_deliveries (
  host        text   NOT NULL,
  delivery_id text   NOT NULL,
  received_at bigint NOT NULL,
  PRIMARY KEY (host, delivery_id)
);
CREATE INDEX bot_deliveries_received ON bot_deliveries (received_at);

-- One approval at a time per (repository, service): the conversation that holds the lock may approve
-- again (its change is updated), another one is told who holds it. `job` is the approval running now;
-- `branch` the change it opened, whose closing releases the lock. A lock past `expires_at` is free, so a
-- crashed job or a change closed while the bot was away cannot hold a service forever.
CREATE TABLE change_locks (
  repository  text   NOT NULL,
  service     text   NOT NULL,
  owner       text   NOT NULL,
  job         text,
  branch      text,
  acquired_at bigint NOT NULL,
  expires_at  bigint NOT NULL,
  PRIMARY KEY (repository, service)
);
CREATE INDEX change_locks_branch ON change_locks (repository, branch);
