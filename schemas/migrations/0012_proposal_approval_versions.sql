-- An approval counts only for the version of the proposal it was given for: a hash of what it commits (the
-- SLI's queries and threshold, the recommended target, the window; src/app/proposals.ts proposalVersion).
-- A re-analysis or an amendment that changes an open proposal leaves the earlier approvals here, counting
-- for nothing until their approvers approve the new version; rows from before this column have no version
-- and count for nothing either.
ALTER TABLE proposal_approvals ADD COLUMN proposal_version text;
