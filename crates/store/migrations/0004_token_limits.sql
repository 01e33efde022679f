-- A token may expire, records when it was last used, and may be limited to acting as some
-- regulators when it writes.
ALTER TABLE tokens ADD COLUMN expires_at TEXT;
ALTER TABLE tokens ADD COLUMN last_used_at TEXT;
ALTER TABLE tokens ADD COLUMN regulators TEXT;
