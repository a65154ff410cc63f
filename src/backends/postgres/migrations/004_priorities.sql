-- Sheppy on PostgreSQL, version 4: priorities. A claimable task's place is
-- its priority (higher first), then its FIFO number; the claim index
-- follows. Rows stored before take priority 0 (the field existed, always 0).
-- A column with a constant default is added without rewriting the table.
ALTER TABLE %SCHEMA%.tasks ADD COLUMN priority integer NOT NULL DEFAULT 0;
DROP INDEX %SCHEMA%.tasks_claimable;
CREATE INDEX tasks_claimable ON %SCHEMA%.tasks (queue, priority DESC, seq) WHERE state = 0;
