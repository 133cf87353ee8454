-- Escrow payments: one row per authorization, moved along its status machine.
CREATE TABLE "{schema}".payments (
    payment_id      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    order_id        uuid NOT NULL,
    customer_id     uuid NOT NULL,
    amount          numeric(12,2) NOT NULL CHECK (amount > 0),
    status          text NOT NULL CHECK (status IN ('AUTHORIZED', 'RELEASED', 'CAPTURED', 'REFUNDED')),
    payout_account  text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    authorized_at   timestamptz NOT NULL DEFAULT now(),
    released_at     timestamptz,
    captured_at     timestamptz,
    refunded_at     timestamptz
);

-- At most one live payment (funds held or charged) per order, whoever races to create it.
CREATE UNIQUE INDEX payments_one_live_per_order ON "{schema}".payments (order_id)
    WHERE status IN ('AUTHORIZED', 'CAPTURED');
CREATE INDEX payments_order_created_idx ON "{schema}".payments (order_id, created_at);

-- Every movement of money, written with the status change that caused it.
CREATE TABLE "{schema}".ledger_entries (
    entry_id    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    payment_id  uuid NOT NULL REFERENCES "{schema}".payments (payment_id),
    entry_type  text NOT NULL CHECK (entry_type IN ('HOLD', 'RELEASE', 'CAPTURE', 'PAYOUT', 'REFUND')),
    account     text NOT NULL,
    amount      numeric(12,2) NOT NULL CHECK (amount > 0),
    created_at  timestamptz NOT NULL DEFAULT now(),
    -- Each movement happens once per payment: a second one is a bug, refused by the database.
    CONSTRAINT ledger_entries_once_per_payment UNIQUE (payment_id, entry_type)
);
