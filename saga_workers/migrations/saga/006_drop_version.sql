-- The row counter "version" was bumped by every write and read by nothing: a saga's progress is
-- guarded by conditional updates on status and current_step, and "definition_version" names the
-- steps it runs with. Dropped after every process runs code that no longer writes it (the
-- migration runs before a deploy's processes start; an older worker still running would fail its
-- writes and leave its sagas to the sweeper, which the new workers resume).
ALTER TABLE "{schema}".saga_instances DROP COLUMN IF EXISTS version;
