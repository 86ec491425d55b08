-- What a list of proposals shows of each (ProposalSummary in src/core/proposal.ts): a few hundred bytes kept
-- beside the whole document, so listing reads neither the evidence, the backtest ladder nor the confidence
-- parts (about 7 KB a proposal, stored out of line) and GET /api/v1/proposals stays a small page.
-- saveProposal writes it; rows stored before this migration have none and are summarised from `data`.
ALTER TABLE proposals ADD COLUMN summary jsonb;
