-- Journeys are also read by the services they pass through, not only by the one they enter at: an SLO of
-- checkout covers `api-gateway POST /api/checkout` too. The calls live in the journey's JSON (`downstream`,
-- one object per edge); this index answers `data -> 'downstream' @> '[{"to": "checkout"}]'`.
CREATE INDEX journeys_downstream ON journeys USING gin ((data -> 'downstream') jsonb_path_ops);
