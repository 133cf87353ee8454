-- Orders and their status machine. Money is numeric(12,2); every timestamp is timestamptz.
CREATE TABLE "{schema}".orders (
    order_id           uuid PRIMARY KEY,
    customer_id        uuid NOT NULL,
    runner_id          uuid,
    saga_id            uuid NOT NULL,
    items              jsonb NOT NULL CHECK (jsonb_typeof(items) = 'array' AND jsonb_array_length(items) > 0),
    food_fee           numeric(12,2) NOT NULL CHECK (food_fee > 0),
    delivery_fee       numeric(12,2) NOT NULL CHECK (delivery_fee >= 0),
    total              numeric(12,2) GENERATED ALWAYS AS (food_fee + delivery_fee) STORED,
    store_location     text NOT NULL CHECK (store_location <> ''),
    delivery_location  text NOT NULL CHECK (delivery_location <> ''),
    status             text NOT NULL CHECK (status IN ('PENDING', 'CREATED', 'ACCEPTED', 'PLACED',
                                                       'ON_THE_WAY', 'DELIVERED', 'COMPLETED', 'CANCELLED')),
    cancel_reason      text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    accepted_at        timestamptz,
    placed_at          timestamptz,
    picked_up_at       timestamptz,
    delivered_at       timestamptz,
    completed_at       timestamptz,
    cancelled_at       timestamptz,
    -- From ACCEPTED on, an order always has its runner (undo-accept clears it with the status).
    CONSTRAINT orders_runner_when_accepted CHECK (
        status IN ('PENDING', 'CREATED', 'CANCELLED') OR runner_id IS NOT NULL)
);

-- The list endpoint filters by one of these and returns newest first.
CREATE INDEX orders_status_created_idx ON "{schema}".orders (status, created_at DESC);
CREATE INDEX orders_customer_created_idx ON "{schema}".orders (customer_id, created_at DESC);
CREATE INDEX orders_runner_created_idx ON "{schema}".orders (runner_id, created_at DESC) WHERE runner_id IS NOT NULL;
CREATE INDEX orders_created_idx ON "{schema}".orders (created_at DESC, order_id DESC);
