-- The saga list pages with a row comparison, (created_at, saga_id) < (cursor): each filter it
-- offers needs an index ending in (created_at DESC, saga_id DESC), or a filtered page walks every
-- newer saga (status=STARTED among a million finished ones) or sorts all matches (a customer's).
CREATE INDEX IF NOT EXISTS saga_instances_status_newest
    ON "{schema}".saga_instances (status, created_at DESC, saga_id DESC);
CREATE INDEX IF NOT EXISTS saga_instances_customer_newest
    ON "{schema}".saga_instances (customer_id, created_at DESC, saga_id DESC);
DROP INDEX IF EXISTS "{schema}".saga_instances_customer;
