-- Retention deletes timers that are over; the due-timeouts scan reads FIRED ones that may fire
-- again (few: a cancel that finished disarms its timer) without walking every old timer.
CREATE INDEX IF NOT EXISTS accept_timeouts_over ON "{schema}".accept_timeouts (updated_at)
    WHERE status IN ('DISARMED', 'FIRED');
CREATE INDEX IF NOT EXISTS accept_timeouts_fired ON "{schema}".accept_timeouts (deadline) WHERE status = 'FIRED';
