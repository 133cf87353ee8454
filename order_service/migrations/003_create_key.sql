-- Which create request made the order: undoing it (cancel while PENDING) undoes that create only.
ALTER TABLE "{schema}".orders ADD COLUMN IF NOT EXISTS create_key text;
