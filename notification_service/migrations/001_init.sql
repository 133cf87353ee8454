-- One row per message sent to a user. The type list lives in the service's domain module.
CREATE TABLE "{schema}".notifications (
    notification_id  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- Insertion order: a batch shares one created_at, yet must read back in the order sent.
    seq              bigint GENERATED ALWAYS AS IDENTITY,
    user_id          uuid NOT NULL,
    type             text NOT NULL,
    order_id         uuid,
    payload          jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at       timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX notifications_user_idx ON "{schema}".notifications (user_id, created_at, seq);
CREATE INDEX notifications_order_idx ON "{schema}".notifications (order_id, created_at, seq);
