-- Customers and runners. A customer carries a card token, a runner a payout account.
CREATE TABLE "{schema}".users (
    user_id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name             text NOT NULL CHECK (name <> ''),
    email            text NOT NULL,
    role             text NOT NULL CHECK (role IN ('customer', 'runner')),
    card_token       text,
    payout_account   text,
    customer_rating  numeric(2,1) NOT NULL DEFAULT 5.0 CHECK (customer_rating BETWEEN 0 AND 5),
    runner_rating    numeric(2,1) NOT NULL DEFAULT 5.0 CHECK (runner_rating BETWEEN 0 AND 5),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_role_needs_account CHECK (
        (role = 'customer' AND card_token IS NOT NULL)
        OR (role = 'runner' AND payout_account IS NOT NULL))
);

-- One account per address, whatever its spelling: the service stores emails lower-cased.
CREATE UNIQUE INDEX users_email_key ON "{schema}".users (lower(email));
CREATE INDEX users_role_created_idx ON "{schema}".users (role, created_at);
