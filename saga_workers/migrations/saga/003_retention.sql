-- Retention deletes finished sagas oldest first; this keeps that scan to the finished ones.
CREATE INDEX IF NOT EXISTS saga_instances_finished ON "{schema}".saga_instances (updated_at)
    WHERE status IN ('COMPLETED', 'COMPENSATED');
