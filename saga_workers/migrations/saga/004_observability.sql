-- The request that started a saga: its participant calls carry it (X-Request-ID), so one grep of
-- the logs follows one order through every service.
ALTER TABLE "{schema}".saga_instances ADD COLUMN IF NOT EXISTS request_id text;
-- The metrics gauge of FAILED sagas counts them at every scrape: an index-only count.
CREATE INDEX IF NOT EXISTS saga_instances_failed ON "{schema}".saga_instances (saga_id) WHERE status = 'FAILED';
