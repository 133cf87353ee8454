-- An accept-timeout whose cancel_order was refused (the order was accepted at that moment, and
-- that acceptance was later undone) fires again; these count and date the firings.
ALTER TABLE "{schema}".accept_timeouts ADD COLUMN IF NOT EXISTS fire_count integer NOT NULL DEFAULT 0;
ALTER TABLE "{schema}".accept_timeouts ADD COLUMN IF NOT EXISTS fired_at timestamptz;
