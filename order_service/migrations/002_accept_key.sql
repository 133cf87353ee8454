-- Which accept request assigned the runner: its compensation undoes that accept and no other
-- (a second, refused accept by the same runner must not undo the first one).
ALTER TABLE "{schema}".orders ADD COLUMN IF NOT EXISTS accept_key text;
