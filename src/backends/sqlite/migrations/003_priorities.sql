-- Sheppy on SQLite, version 3: priorities. A claimable task's place is its
-- priority (higher first), then its FIFO number; the claim index follows.
-- Records stored before kept priority 0 (the field existed, always 0).
ALTER TABLE tasks ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
DROP INDEX tasks_claimable;
CREATE INDEX tasks_claimable ON tasks (queue, priority DESC, seq) WHERE state = 0;
