-- Which request made each effect: a release undoes the hold its authorize made, a refund the
-- charge its capture made, and never another saga's (two completes racing on one order).
ALTER TABLE "{schema}".payments ADD COLUMN IF NOT EXISTS authorize_key text;
ALTER TABLE "{schema}".payments ADD COLUMN IF NOT EXISTS capture_key text;
CREATE INDEX IF NOT EXISTS payments_authorize_key ON "{schema}".payments (authorize_key) WHERE authorize_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS payments_capture_key ON "{schema}".payments (capture_key) WHERE capture_key IS NOT NULL;
