-- Keys are purged by age (campus_common.key_retention): the oldest first, in bounded batches.
CREATE INDEX IF NOT EXISTS idempotency_keys_created ON "{schema}".idempotency_keys (created_at);
