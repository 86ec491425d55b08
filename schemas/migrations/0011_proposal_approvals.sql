-- Approvals of proposals while the policy asks for a second approver (requireSecondApprover): each is kept
-- here until a second, distinct approver approves the same proposals at the same target, which opens the
-- change. One row per (proposal, approver): approving again replaces the target and the time. A proposal's
-- rows are deleted when it is committed.
CREATE TABLE proposal_approvals (
  proposal_id text   NOT NULL,
  -- <source>:<login>, as the audit log names actors
  approver    text   NOT NULL,
  -- the login the policy judged (a GitHub or GitLab login, a Slack user id)
  login       text   NOT NULL,
  -- the target approved, in percent; NULL for the proposal's recommended target
  target      double precision,
  approved_at bigint NOT NULL,
  PRIMARY KEY (proposal_id, approver)
);
