-- Versioned definitions: a saga runs with the definition version it started on, and the name of
-- the step it waits for is kept next to its index so a mismatched definition is caught, not run.
-- Sagas started before this migration ran on the definitions declared as version '1'.
ALTER TABLE "{schema}".saga_instances ADD COLUMN IF NOT EXISTS definition_version text NOT NULL DEFAULT '1';
ALTER TABLE "{schema}".saga_instances ALTER COLUMN definition_version DROP DEFAULT;
ALTER TABLE "{schema}".saga_instances ADD COLUMN IF NOT EXISTS current_step_name text;
-- `saga versions`: which versions unfinished or FAILED sagas still need (FAILED ones can be retried).
CREATE INDEX IF NOT EXISTS saga_instances_live_versions ON "{schema}".saga_instances (definition_version, status)
    WHERE status IN ('STARTED', 'COMPENSATING', 'FAILED');
