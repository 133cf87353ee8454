-- Accept-timeouts live in Postgres (not in broker ETA messages): beat scans for due ones.
CREATE TABLE IF NOT EXISTS "{schema}".accept_timeouts (
    order_id        uuid PRIMARY KEY,
    saga_id         uuid NOT NULL,
    deadline        timestamptz NOT NULL,
    status          text NOT NULL CHECK (status IN ('ARMED', 'DISARMED', 'FIRED')),
    fired_saga_id   uuid,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS accept_timeouts_due ON "{schema}".accept_timeouts (deadline) WHERE status = 'ARMED';
