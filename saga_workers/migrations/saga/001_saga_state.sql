-- One saga type's state: its instances and a log of every attempt of every step.
CREATE TABLE IF NOT EXISTS "{schema}".saga_instances (
    saga_id          uuid PRIMARY KEY,
    saga_type        text NOT NULL,
    status           text NOT NULL CHECK (status IN ('STARTED', 'COMPLETED', 'COMPENSATING', 'COMPENSATED', 'FAILED')),
    current_step     integer NOT NULL DEFAULT 0,
    failed_phase     text CHECK (failed_phase IN ('action', 'compensation')),
    payload          jsonb NOT NULL,
    step_outputs     jsonb NOT NULL DEFAULT '{}'::jsonb,
    idempotency_key  text UNIQUE,
    order_id         uuid,
    customer_id      uuid,
    runner_id        uuid,
    error            text,
    round            integer NOT NULL DEFAULT 1,
    version          integer NOT NULL DEFAULT 1,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS saga_instances_newest ON "{schema}".saga_instances (created_at DESC, saga_id DESC);
CREATE INDEX IF NOT EXISTS saga_instances_unfinished ON "{schema}".saga_instances (updated_at)
    WHERE status IN ('STARTED', 'COMPENSATING');
CREATE INDEX IF NOT EXISTS saga_instances_order ON "{schema}".saga_instances (order_id);
CREATE INDEX IF NOT EXISTS saga_instances_customer ON "{schema}".saga_instances (customer_id, created_at DESC);

CREATE TABLE IF NOT EXISTS "{schema}".saga_step_log (
    id               bigserial PRIMARY KEY,
    saga_id          uuid NOT NULL REFERENCES "{schema}".saga_instances (saga_id) ON DELETE CASCADE,
    step_index       integer NOT NULL,
    step_name        text NOT NULL,
    phase            text NOT NULL CHECK (phase IN ('action', 'compensation')),
    round            integer NOT NULL,
    attempt          integer NOT NULL,
    status           text NOT NULL CHECK (status IN ('RUNNING', 'DONE', 'FAILED', 'REFUSED')),
    outcome_unknown  boolean NOT NULL DEFAULT false,
    error            text,
    started_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz,
    UNIQUE (saga_id, step_index, phase, round, attempt)
);
CREATE INDEX IF NOT EXISTS saga_step_log_saga ON "{schema}".saga_step_log (saga_id, id);
