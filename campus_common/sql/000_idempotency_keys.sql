-- Every participant remembers the first answer to each Idempotency-Key it was sent.
CREATE TABLE IF NOT EXISTS "{schema}".idempotency_keys (
    key          text PRIMARY KEY,
    fingerprint  text NOT NULL,
    status_code  integer,
    response     text,
    created_at   timestamptz NOT NULL DEFAULT now()
);
